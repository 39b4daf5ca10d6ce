import { readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { z } from 'zod';
import { intFromJson } from '../codecs/entry-json.ts';
import { cacheKey } from '../model/cache-key.ts';
import type { CodeId } from '../model/code-id.ts';
import { fileHash } from '../model/file-hash.ts';
import { VALIDATED, zodMessage, type ShapeObserved } from '../store/events.ts';
import { hash53 } from '../store/hash53.ts';
import type { NewEvent } from '../store/ledger.ts';

/** Values the command line gives for what a line leaves out. */
export interface LineDefaults {
  job?: string;
  rank?: number | null;
  tag?: string;
  run?: string;
}

const IntJson = z.union([z.number().int(), z.string().regex(/^-?\d+$/, 'not an integer')]);
const ObservationLine = z
  .object({
    job: z.string().min(1).optional(),
    rank: z.number().int().nonnegative().nullable().optional(),
    tag: z.string().optional(),
    run: z.string().optional(),
    time: z.union([z.string(), z.number()]).optional(),
    compile_id: z.string().optional(),
    code: z.object({
      filename: z.string(),
      firstlineno: z.number().int(),
      name: z.string(),
      file_hash: z.string().optional(),
      /** PyTorch after 2.11: part of the code's identity (None or any int; past 2**53 as a string). */
      closure_hash: IntJson.nullable().optional(),
    }),
    source: z.string().min(1),
    kind: z.enum(['tensor', 'scalar', 'size']),
    size: z.array(IntJson).optional(),
    stride: z.array(IntJson).optional(),
    value: IntJson.optional(),
    automatic_dynamic: z.boolean().optional(),
  })
  .superRefine((o, ctx) => {
    if (o.kind !== 'scalar' && !o.size) ctx.addIssue({ code: 'custom', path: ['size'], message: `required for kind ${o.kind}` });
    if (o.kind === 'tensor' && !o.stride) ctx.addIssue({ code: 'custom', path: ['stride'], message: 'required for kind tensor' });
    if (o.kind === 'tensor' && o.size && o.stride && o.size.length !== o.stride.length) {
      ctx.addIssue({ code: 'custom', path: ['stride'], message: `has ${o.stride.length} dims but size has ${o.size.length}` });
    }
    if (o.kind === 'scalar' && o.value === undefined) ctx.addIssue({ code: 'custom', path: ['value'], message: 'required for kind scalar' });
  });

export class InputError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    message: string,
  ) {
    super(`${file}:${line}: ${message}`);
    this.name = 'InputError';
  }
}

const hashes = new Map<string, string>();
/** PyTorch's file_hash for a code's file: CRC32 of it here, or the path when it is not here. */
function hashOfFile(path: string): string {
  let h = hashes.get(path);
  if (h === undefined) {
    let bytes: Uint8Array | undefined;
    try {
      bytes = readFileSync(path);
    } catch {
      bytes = undefined;
    }
    hashes.set(path, (h = fileHash(path, bytes)));
  }
  return h;
}

function parseTime(t: string | number | undefined): number | undefined | null {
  if (t === undefined) return undefined;
  const ms = typeof t === 'number' ? t * 1000 : Date.parse(t);
  return Number.isFinite(ms) ? ms : null;
}

/** Ints past 2**53 must come as strings (JSON numbers that big have already lost digits). */
function checkInts(xs: readonly (number | string)[], field: string, file: string, line: number): void {
  for (let i = 0; i < xs.length; i++) {
    const v = xs[i];
    if (typeof v === 'number' && !Number.isSafeInteger(v)) throw new InputError(file, line, `field ${field}[${i}]: ${v} is past 2**53; write it as a string`);
  }
}

/** What stays the same for every line of one input. */
export interface LineContext {
  file: string;
  defaults: LineDefaults;
  /** The input's absolute path (or 'stdin'). */
  origin: string;
  /**
   * 21 bits naming the input (its file name, first line and the defaults): an event's
   * idempotency key is tag * 2**32 + line, so one input's keys ascend and the unique index
   * only appends. The same file ingested again (or grown since) maps to the same keys; two
   * runs' files that happen to start alike do not, by their names. Another input with the
   * same tag is told apart by content (see Ledger.appendPrepared).
   */
  tag: number;
}

export function lineContext(file: string, defaults: LineDefaults, firstLine: string): LineContext {
  const name = file === '-' ? '-' : basename(file);
  return { file, defaults, origin: file === '-' ? 'stdin' : resolve(file), tag: hash53(`${name}\u0000${firstLine}\u0000${JSON.stringify(defaults)}`) % 2 ** 21 };
}

/** One JSON observation line to a `shape.observed` event (InputError naming file, line, field). */
export function parseObservationLine(text: string, line: number, ctx: LineContext): NewEvent {
  const { file, defaults } = ctx;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new InputError(file, line, `not JSON: ${(e as Error).message}`);
  }
  const r = ObservationLine.safeParse(json);
  if (!r.success) throw new InputError(file, line, `field ${zodMessage(r.error)}`);
  const o = r.data;
  const job = o.job ?? defaults.job;
  if (!job) throw new InputError(file, line, 'field job: missing (give it in the line or with --job)');
  const rank = o.rank !== undefined ? o.rank : (defaults.rank ?? null);
  const tag = o.tag ?? defaults.tag ?? '';
  let key: string;
  try {
    key = cacheKey({ job, rank, tag });
  } catch (e) {
    throw new InputError(file, line, `field job: ${(e as Error).message}`);
  }
  const time = parseTime(o.time);
  if (time === null) throw new InputError(file, line, `field time: ${JSON.stringify(o.time)} is not a time`);
  let shape: ShapeObserved['shape'];
  if (o.kind === 'scalar') {
    if (typeof o.value === 'number' && !Number.isSafeInteger(o.value)) throw new InputError(file, line, `field value: ${o.value} is past 2**53; write it as a string`);
    shape = { kind: 'scalar', value: o.value! };
  } else {
    checkInts(o.size!, 'size', file, line);
    if (o.kind === 'tensor') {
      checkInts(o.stride!, 'stride', file, line);
      shape = { kind: 'tensor', size: o.size!, stride: o.stride! };
    } else shape = { kind: 'size', size: o.size! };
  }
  const run = o.run ?? defaults.run ?? null;
  const ch = o.code.closure_hash;
  if (typeof ch === 'number' && !Number.isSafeInteger(ch)) throw new InputError(file, line, `field code.closure_hash: ${ch} is past 2**53; write it as a string`);
  const code: CodeId = { filename: o.code.filename, firstlineno: o.code.firstlineno, name: o.code.name, file_hash: o.code.file_hash ?? hashOfFile(o.code.filename) };
  // A line that names closure_hash (even None) is data in the layout after 2.11.
  const withClosure: CodeId = ch === undefined ? code : { ...code, closure_hash: ch === null ? null : intFromJson(ch) };
  // Checked by the line's zod schema above (a superset of the payload's): marked as validated.
  return {
    [VALIDATED]: true,
    kind: 'shape.observed',
    cacheKey: key,
    payload: {
      code: withClosure,
      source: o.source,
      shape,
      automatic_dynamic: o.automatic_dynamic ?? true,
    },
    time,
    run,
    origin: ctx.origin,
    originLine: line,
    compileId: o.compile_id ?? null,
    idempotencyKey: `obs\u0000${ctx.tag}\u0000${line}`,
    idempotencyHash: ctx.tag * 2 ** 32 + line,
  };
}
