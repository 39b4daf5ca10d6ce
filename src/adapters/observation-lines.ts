import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { cacheKey } from '../model/cache-key.ts';
import { fileHash } from '../model/file-hash.ts';
import { zodMessage, ShapeSchema } from '../store/events.ts';
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

function checkInt(v: number | string, path: string, file: string, line: number): number | string {
  if (typeof v === 'number' && !Number.isSafeInteger(v)) throw new InputError(file, line, `field ${path}: ${v} is past 2**53; write it as a string`);
  return v;
}

/** One JSON observation line to a `shape.observed` event (InputError naming file, line, field). */
export function parseObservationLine(text: string, file: string, line: number, defaults: LineDefaults): NewEvent {
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
  const shape =
    o.kind === 'tensor'
      ? { kind: 'tensor' as const, size: o.size!.map((v, i) => checkInt(v, `size[${i}]`, file, line)), stride: o.stride!.map((v, i) => checkInt(v, `stride[${i}]`, file, line)) }
      : o.kind === 'scalar'
        ? { kind: 'scalar' as const, value: checkInt(o.value!, 'value', file, line) }
        : { kind: 'size' as const, size: o.size!.map((v, i) => checkInt(v, `size[${i}]`, file, line)) };
  ShapeSchema.parse(shape);
  const run = o.run ?? defaults.run ?? null;
  return {
    kind: 'shape.observed',
    cacheKey: key,
    payload: {
      code: { filename: o.code.filename, firstlineno: o.code.firstlineno, name: o.code.name, file_hash: o.code.file_hash ?? hashOfFile(o.code.filename) },
      source: o.source,
      shape,
      automatic_dynamic: o.automatic_dynamic ?? true,
    },
    time,
    run,
    origin: file === '-' ? 'stdin' : resolve(file),
    originLine: line,
    compileId: o.compile_id ?? null,
    idempotencyKey: `obs\u0000${key}\u0000${run ?? ''}\u0000${line}\u0000${text}`,
  };
}
