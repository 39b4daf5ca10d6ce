import pako from 'pako';
import { z } from 'zod';
import type { EntryJson } from '../codecs/entry-json.ts';

/**
 * Event payloads, validated by zod on the way in and on the way out. Each kind carries a
 * schema version; a new version gets a new schema here and an upcaster, never an edit.
 */
const IntJson = z.union([z.number().int().refine(Number.isSafeInteger, 'integer past 2**53: write it as a string'), z.string().regex(/^-?\d+$/, 'not an integer')]);
const AtomJson = z.union([IntJson, z.literal('dynamic'), z.literal('unset'), z.object({ infer: z.number().int().nonnegative() })]);
const FieldJson = z.union([z.array(AtomJson), z.literal('dynamic'), z.literal('unset')]);
export const EntryJsonSchema = z.object({ scalar: AtomJson, size: FieldJson, stride: FieldJson });

export const CodeIdSchema = z.object({
  filename: z.string(),
  firstlineno: z.number().int(),
  name: z.string(),
  file_hash: z.string(),
});

export const ShapeSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('tensor'), size: z.array(IntJson), stride: z.array(IntJson) }),
  z.object({ kind: z.literal('scalar'), value: IntJson }),
  z.object({ kind: z.literal('size'), size: z.array(IntJson) }),
]);

export const ShapeObservedV1 = z.object({
  code: CodeIdSchema,
  source: z.string(),
  shape: ShapeSchema,
  automatic_dynamic: z.boolean(),
});
export const EntryImportedV1 = z.object({
  code: CodeIdSchema,
  source: z.string(),
  entry: EntryJsonSchema,
  /** imports.id of the snapshot this entry came from. */
  import_id: z.number().int(),
  format: z.string(),
});
export const RunRetractedV1 = z.object({ run: z.string(), reason: z.string().optional() });

export type ShapeObserved = z.infer<typeof ShapeObservedV1>;
export type EntryImported = z.infer<typeof EntryImportedV1> & { entry: EntryJson };
export type RunRetracted = z.infer<typeof RunRetractedV1>;

export type EventBody =
  | { kind: 'shape.observed'; payload: ShapeObserved }
  | { kind: 'entry.imported'; payload: EntryImported }
  | { kind: 'run.retracted'; payload: RunRetracted };
export type EventKind = EventBody['kind'];

export const CURRENT_VERSION: Record<EventKind, number> = {
  'shape.observed': 1,
  'entry.imported': 1,
  'run.retracted': 1,
};
const SCHEMAS: Record<string, Record<number, z.ZodType>> = {
  'shape.observed': { 1: ShapeObservedV1 },
  'entry.imported': { 1: EntryImportedV1 },
  'run.retracted': { 1: RunRetractedV1 },
};

export class EventPayloadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EventPayloadError';
  }
}

export function zodMessage(e: z.ZodError): string {
  return e.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ');
}

export function validatePayload(kind: string, version: number, payload: unknown): unknown {
  const schema = SCHEMAS[kind]?.[version];
  if (!schema) throw new EventPayloadError(`unknown event kind ${kind} v${version}`);
  const r = schema.safeParse(payload);
  if (!r.success) throw new EventPayloadError(`${kind} v${version}: ${zodMessage(r.error)}`);
  return r.data;
}

/** Payloads past this size are deflated (imported snapshots' big entries, long source lists). */
const DEFLATE_OVER = 4096;
export const ENCODING_JSON = 0;
export const ENCODING_DEFLATE = 1;

export function encodePayload(json: string): { payload: string | Uint8Array; encoding: number } {
  if (json.length > DEFLATE_OVER) return { payload: pako.deflate(json), encoding: ENCODING_DEFLATE };
  return { payload: json, encoding: ENCODING_JSON };
}

const td = new TextDecoder();
export function decodePayload(payload: string | Uint8Array, encoding: number): unknown {
  if (encoding === ENCODING_DEFLATE) return JSON.parse(pako.inflate(payload as Uint8Array, { to: 'string' }));
  return JSON.parse(typeof payload === 'string' ? payload : td.decode(payload));
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
