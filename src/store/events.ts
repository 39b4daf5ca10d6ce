import pako from 'pako';
import { LedgerError } from '../errors.ts';
import * as z from 'zod';
import type { EntryJson } from '../codecs/entry-json.ts';
import { floatFromRepr, nanOfBits } from '../model/float.ts';
import { isPyPlain, type PyFields } from '../model/py-plain.ts';

/**
 * Event payloads, validated by zod on the way in and on the way out. Each kind carries a
 * schema version; a new version gets a new schema here and an upcaster, never an edit.
 * They are built on first use: building them costs several ms, which a command that never
 * validates a payload (show, on a stored view) should not pay at start-up.
 */
function buildSchemas() {
  const IntJson = z.union([z.number().int().refine(Number.isSafeInteger, 'integer past 2**53: write it as a string'), z.string().regex(/^-?\d+$/, 'not an integer')]);
  // `obj` (which InferStride object within its tuple, see entry-json.ts) is optional and its
  // absence means what v1 always meant (one shared object per dim), so v1 payloads read the same.
  const AtomJson = z.union([IntJson, z.literal('dynamic'), z.literal('unset'), z.object({ infer: z.number().int().nonnegative(), obj: z.number().int().positive().optional() })]);
  const FieldJson = z.union([z.array(AtomJson), z.literal('dynamic'), z.literal('unset')]);
  /**
   * An entry. The layout after 2.11 adds excluded_sizes / excluded_scalar (optional: v1 bodies
   * written before stay valid, and an older pgo-ledger refuses a database that has them, by
   * its migrations) and a newer layout's unknown fields (extra, in model/py-plain.ts's JSON).
   */
  // a float scalar (specialize_float=False) as its Python repr; tuples hold none
  // a nan's bits where they are not float('nan')'s (PyFloat.nanBits)
  const FloatJson = z
    .object({ float: z.string().refine((s) => floatFromRepr(s) !== undefined, 'not a float as Python prints it'), bits: z.string().optional() })
    .refine((f) => f.bits === undefined || (f.float === 'nan' && nanOfBits(f.bits) !== undefined), { message: "bits: a nan's 16 hex digits, with float nan", path: ['bits'] });
  const EntryJsonSchema = z.object({
    scalar: z.union([AtomJson, FloatJson]),
    size: FieldJson,
    stride: FieldJson,
    excluded_sizes: z.array(IntJson.nullable()).nullable().optional(),
    excluded_scalar: IntJson.nullable().optional(),
    extra: z.array(z.tuple([z.string(), z.unknown()])).optional(),
  });

  /** A field of a newer layout: [name, plain Python value] (see model/py-plain.ts). */
  const ExtraSchema = z.custom<PyFields>(
    (v) => Array.isArray(v) && v.every((x) => Array.isArray(x) && x.length === 2 && typeof x[0] === 'string' && isPyPlain(x[1])),
    'not a list of [name, None | bool | int | str | tuple]',
  );
  const CodeIdSchema = z.object({
    filename: z.string(),
    firstlineno: z.number().int(),
    name: z.string(),
    file_hash: z.string(),
    /** PyTorch after 2.11 (absent: the 2.11 layout); the code id goes to the codes table, so a bigint is fine here. */
    closure_hash: z.union([z.number().int().refine(Number.isSafeInteger, 'past 2**53: a bigint'), z.bigint()]).nullable().optional(),
    extra: ExtraSchema.optional(),
  });

  /** The dims torch._dynamo.mark_dynamic marked: sorted, distinct, each below the tensor's rank. */
  const MarkDynamic = z
    .array(z.number().int().nonnegative())
    .min(1)
    .refine((d) => d.every((x, k) => k === 0 || x > d[k - 1]), 'not sorted and distinct')
    .optional();
  const marksFit = (s: { size: unknown[]; mark_dynamic?: number[] }) => !s.mark_dynamic || s.mark_dynamic[s.mark_dynamic.length - 1] < s.size.length;
  const TensorShape = z.object({ kind: z.literal('tensor'), size: z.array(IntJson), stride: z.array(IntJson), mark_dynamic: MarkDynamic });
  const ShapeSchema = z.discriminatedUnion('kind', [
    TensorShape.refine(marksFit, { message: 'a dim past the size', path: ['mark_dynamic'] }),
    z.object({ kind: z.literal('scalar'), value: IntJson }),
    z.object({ kind: z.literal('size'), size: z.array(IntJson) }),
  ]);

  const ShapeObservedV1 = z.object({
    code: CodeIdSchema,
    source: z.string(),
    shape: ShapeSchema,
    automatic_dynamic: z.boolean(),
  });
  const EntryImportedV1 = z.object({
    code: CodeIdSchema,
    source: z.string(),
    entry: EntryJsonSchema,
    /** imports.id of the snapshot this entry came from (null for a trace's rendered snapshot). */
    import_id: z.number().int().nullable(),
    format: z.string(),
    /** 'logged': PyTorch's own records of this change are dynamic.logged events (a trace), so the fold adds none. */
    records: z.enum(['fold', 'logged']).optional(),
    /** false: the entry takes the profile's in place (a put of a compile under automatic_dynamic_shapes off), as an observation's does. */
    automatic_dynamic: z.literal(false).optional(),
  });
  const RecordSchema = z.object({
    dim_changed: z.union([z.literal('scalar'), z.literal('all'), z.number().int().nonnegative()]),
    reason: z.enum(['scalar change', 'size change', 'stride change', 'dimensionality change', 'other']),
    cached: z.string(),
    new: z.string(),
  });
  /** A record PyTorch logged (TORCH_TRACE automatic_dynamic), with the guard failure that led to the compile. */
  const DynamicLoggedV1 = z.object({
    code: CodeIdSchema,
    source: z.string(),
    record: RecordSchema,
    guard: z.string().nullable(),
  });
  const RunRetractedV1 = z.object({ run: z.string(), reason: z.string().optional() });
  /** A size or stride entry as a trace's describe_tensor wrote it: an int, or a symbolic one's text (never folded). */
  const DescribedDim = z.union([z.number().int(), z.string(), z.null()]);
  const DescribedBody = z.object({
    size: z.array(DescribedDim),
    stride: z.array(DescribedDim).nullable(),
    dtype: z.string().nullable(),
    device: z.string().nullable(),
    role: z.enum(['input', 'parameter', 'buffer']),
    /** describe_tensor's requires_grad, kept only when true as PyTorch writes it (a body without it is one from before it was kept, or false). */
    requires_grad: z.literal(true).optional(),
  });
  /**
   * An input tensor a compile saw (TORCH_TRACE describe_tensor + describe_source); the compile
   * id is the event's column. Evidence only: the fold leaves the profile as it is.
   */
  const ShapeDescribedV1 = z.object({ code: CodeIdSchema, source: z.string(), ...DescribedBody.shape });
  /**
   * An int or float a compile was fed: a dynamic one's symbol (TORCH_TRACE create_symbol: once
   * its source is dynamic, the only place a trace gives its value), or a static one's guard
   * (dynamo_cpp_guards_str's EQUALS_MATCH, `specialized`; a body without it is a symbol's).
   * Evidence only, as shape.described.
   */
  const ScalarBody = z.object({ value: z.union([IntJson, FloatJson]), specialized: z.literal(true).optional() });
  const ScalarDescribedV1 = z.object({ code: CodeIdSchema, source: z.string(), ...ScalarBody.shape });

  /**
   * What is stored of each payload. The code id and source go to columns (codes are
   * normalised into their own table), so the JSON left is small and quick to read back.
   */
  const AutoFlag = { automatic_dynamic: z.boolean().optional() };
  const StoredBodies: Record<string, Record<number, z.ZodType>> = {
    'shape.observed': {
      1: z.discriminatedUnion('kind', [
        z.object({ kind: z.literal('tensor'), size: z.array(IntJson), stride: z.array(IntJson), mark_dynamic: MarkDynamic, ...AutoFlag }).refine(marksFit, { message: 'a dim past the size', path: ['mark_dynamic'] }),
        z.object({ kind: z.literal('scalar'), value: IntJson, ...AutoFlag }),
        z.object({ kind: z.literal('size'), size: z.array(IntJson), ...AutoFlag }),
      ]),
    },
    'entry.imported': { 1: z.object({ entry: EntryJsonSchema, import_id: z.number().int().nullable(), format: z.string(), records: z.enum(['fold', 'logged']).optional(), automatic_dynamic: z.literal(false).optional() }) },
    'run.retracted': { 1: RunRetractedV1 },
    'dynamic.logged': { 1: z.object({ record: RecordSchema, guard: z.string().nullable() }) },
    'shape.described': { 1: DescribedBody },
    'scalar.described': { 1: ScalarBody },
  };
  const SCHEMAS: Record<string, Record<number, z.ZodType>> = {
    'shape.observed': { 1: ShapeObservedV1 },
    'entry.imported': { 1: EntryImportedV1 },
    'run.retracted': { 1: RunRetractedV1 },
    'dynamic.logged': { 1: DynamicLoggedV1 },
    'shape.described': { 1: ShapeDescribedV1 },
    'scalar.described': { 1: ScalarDescribedV1 },
  };
  return { EntryJsonSchema, CodeIdSchema, ShapeSchema, ShapeObservedV1, EntryImportedV1, DynamicLoggedV1, RunRetractedV1, ShapeDescribedV1, ScalarDescribedV1, StoredBodies, SCHEMAS };
}
type Schemas = ReturnType<typeof buildSchemas>;
let built: Schemas | undefined;
export const eventSchemas = (): Schemas => (built ??= buildSchemas());

/** Events built by code that already ran the zod schema carry this mark (no second parse). */
export const VALIDATED: unique symbol = Symbol('validated');

export type ShapeObserved = z.infer<Schemas['ShapeObservedV1']>;
export type EntryImported = z.infer<Schemas['EntryImportedV1']> & { entry: EntryJson };
export type RunRetracted = z.infer<Schemas['RunRetractedV1']>;
export type DynamicLogged = z.infer<Schemas['DynamicLoggedV1']>;
export type ShapeDescribed = z.infer<Schemas['ShapeDescribedV1']>;
export type ScalarDescribed = z.infer<Schemas['ScalarDescribedV1']>;

export type EventBody =
  | { kind: 'shape.observed'; payload: ShapeObserved }
  | { kind: 'entry.imported'; payload: EntryImported }
  | { kind: 'run.retracted'; payload: RunRetracted }
  | { kind: 'dynamic.logged'; payload: DynamicLogged }
  | { kind: 'shape.described'; payload: ShapeDescribed }
  | { kind: 'scalar.described'; payload: ScalarDescribed };
export type EventKind = EventBody['kind'];

export const CURRENT_VERSION: Record<EventKind, number> = {
  'shape.observed': 1,
  'entry.imported': 1,
  'run.retracted': 1,
  'dynamic.logged': 1,
  'shape.described': 1,
  'scalar.described': 1,
};

export class EventPayloadError extends LedgerError {
  constructor(message: string) {
    super(message);
    this.name = 'EventPayloadError';
  }
}

export function zodMessage(e: z.ZodError): string {
  // an unknown field is named by its own path (zod gives the object's, with the names apart)
  // a null where the field takes none: said as what to do (trial s34b: zod's words alone)
  const message = (i: z.core.$ZodIssue) => (i.code === 'invalid_type' && / received null$/.test(i.message) ? `${i.message.replace(/^Invalid input: /, '')} (leave the field out instead)` : i.message);
  return e.issues.map((i) => (i.code === 'unrecognized_keys' ? `${i.keys.map((k) => fieldPath([...i.path, k])).join(', ')}: ${i.message}` : `${fieldPath(i.path) || '(top)'}: ${message(i)}`)).join('; ');
}

/** `size[0]`, `code.firstlineno`: a field named as the line's own checks name it. */
function fieldPath(path: readonly PropertyKey[]): string {
  return path.map((p, k) => (typeof p === 'number' ? `[${p}]` : k === 0 ? String(p) : `.${String(p)}`)).join('');
}

export function validatePayload(kind: string, version: number, payload: unknown): unknown {
  const schema = eventSchemas().SCHEMAS[kind]?.[version];
  if (!schema) throw new EventPayloadError(`unknown event kind ${kind} v${version}`);
  const r = schema.safeParse(payload);
  if (!r.success) throw new EventPayloadError(`${kind} v${version}: ${zodMessage(r.error)}`);
  return r.data;
}

/** Payloads past this size are deflated (imported snapshots' big entries, long source lists). */
const DEFLATE_OVER = 4096;

/** JSON text as is, or deflated into a blob past 4 KiB (the stored type tells which). */
export function encodePayload(json: string): string | Uint8Array {
  return json.length > DEFLATE_OVER ? pako.deflate(json) : json;
}

/** Stored text, or bytes: deflated (zlib's first byte, 0x78) or, on PostgreSQL (bytea), the JSON text itself. */
export function decodePayload(payload: string | Uint8Array): unknown {
  if (typeof payload === 'string') return JSON.parse(payload);
  return JSON.parse(payload[0] === 0x78 ? pako.inflate(payload, { to: 'string' }) : new TextDecoder().decode(payload));
}

/**
 * Whether the fold joins an event's entry (torch._dynamo.config.automatic_dynamic_shapes on)
 * or writes it in the entry's place: an observation says so, and an import is joined but for a
 * put of a compile under it off (session 27); the other kinds bring no entry.
 */
export function automaticDynamicOf(body: EventBody): boolean {
  if (body.kind === 'shape.observed') return body.payload.automatic_dynamic;
  return body.kind !== 'entry.imported' || body.payload.automatic_dynamic !== false;
}

/** A payload split for storage: code id and source (columns) and the JSON body. */
export function splitPayload(body: EventBody): { code: z.infer<Schemas['CodeIdSchema']> | null; source: string | null; json: string } {
  switch (body.kind) {
    case 'shape.observed': {
      const p = body.payload;
      return { code: p.code, source: p.source, json: shapeJson(p.shape, p.automatic_dynamic) };
    }
    case 'entry.imported': {
      const p = body.payload;
      return { code: p.code, source: p.source, json: JSON.stringify({ entry: p.entry, import_id: p.import_id, format: p.format, ...(p.records ? { records: p.records } : {}), ...(p.automatic_dynamic === false ? { automatic_dynamic: false } : {}) }) };
    }
    case 'dynamic.logged': {
      const p = body.payload;
      return { code: p.code, source: p.source, json: JSON.stringify({ record: p.record, guard: p.guard }) };
    }
    case 'shape.described': {
      const { code, source, size, stride, dtype, device, role, requires_grad } = body.payload;
      return { code, source, json: JSON.stringify({ size, stride, dtype, device, role, ...(requires_grad ? { requires_grad } : {}) }) };
    }
    case 'scalar.described': {
      const { code, source, value, specialized } = body.payload;
      const tail = specialized ? ',"specialized":true}' : '}';
      return { code, source, json: typeof value === 'object' ? `{"value":${JSON.stringify(value)}${tail}` : `{"value":${intJson(value)}${tail}` };
    }
    case 'run.retracted':
      return { code: null, source: null, json: JSON.stringify(body.payload) };
  }
}

const intJson = (v: number | string) => (typeof v === 'number' ? String(v) : `"${v}"`);
/** The stored body of an observation, written by hand: the ingest's hottest string. */
function shapeJson(s: ShapeObserved['shape'], auto: boolean): string {
  const tail = auto ? '}' : ',"automatic_dynamic":false}';
  switch (s.kind) {
    case 'tensor':
      return `{"kind":"tensor","size":[${s.size.map(intJson).join(',')}],"stride":[${s.stride.map(intJson).join(',')}]${s.mark_dynamic ? `,"mark_dynamic":[${s.mark_dynamic.join(',')}]` : ''}${tail}`;
    case 'scalar':
      return `{"kind":"scalar","value":${intJson(s.value)}${tail}`;
    case 'size':
      return `{"kind":"size","size":[${s.size.map(intJson).join(',')}]${tail}`;
  }
}

/** Back from storage, validated by zod on the way out. */
export function joinPayload(kind: string, version: number, code: z.infer<Schemas['CodeIdSchema']> | null, source: string | null, stored: unknown): EventBody {
  const schema = eventSchemas().StoredBodies[kind]?.[version];
  if (!schema) throw new EventPayloadError(`unknown event kind ${kind} v${version}`);
  const r = schema.safeParse(stored);
  if (!r.success) throw new EventPayloadError(`${kind} v${version}: ${zodMessage(r.error)}`);
  const b = r.data as Record<string, unknown>;
  if (kind === 'run.retracted') return { kind, payload: b as RunRetracted };
  if (!code || typeof source !== 'string') throw new EventPayloadError(`${kind} v${version}: no code id or source`);
  if (kind === 'shape.observed') {
    const { automatic_dynamic, ...shape } = b;
    return { kind, payload: { code, source, shape: shape as ShapeObserved['shape'], automatic_dynamic: automatic_dynamic !== false } };
  }
  if (kind === 'dynamic.logged') return { kind, payload: { code, source, record: b.record as DynamicLogged['record'], guard: b.guard as string | null } };
  if (kind === 'shape.described') return { kind, payload: { code, source, ...(b as Omit<ShapeDescribed, 'code' | 'source'>) } };
  if (kind === 'scalar.described') return { kind, payload: { code, source, value: b.value as ScalarDescribed['value'], ...(b.specialized ? { specialized: true as const } : {}) } };
  return {
    kind: 'entry.imported',
    payload: { code, source, entry: b.entry as EntryJson, import_id: b.import_id as number | null, format: b.format as string, ...(b.records ? { records: b.records as 'fold' | 'logged' } : {}), ...(b.automatic_dynamic === false ? { automatic_dynamic: false as const } : {}) },
  };
}

/** An event as read back from the log. */
export type StoredEvent = EventBody & {
  position: number;
  profileId: number;
  time: number;
  run: string | null;
  origin: string | null;
  originLine: number | null;
  compileId: string | null;
};
