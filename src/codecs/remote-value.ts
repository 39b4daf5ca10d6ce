import * as z from 'zod';
import { LedgerError } from '../errors.ts';

/** `RemoteDynamoPGOCache` key for a profile: `pt2:dynamo-pgo::<cache_key>:c1`. */
export function remoteKey(cacheKey: string): string {
  return `pt2:dynamo-pgo::${cacheKey}:c1`;
}

/** The cache key inside a remote key, or null if it is not a PGO entry. */
export function cacheKeyOfRemoteKey(key: string): string | null {
  const m = /^pt2:dynamo-pgo::(.*):c1$/s.exec(key);
  return m ? m[1] : null;
}

// Built on first use: building it at load would load zod into every command that bundles this
// module with the file readers (trace ingest included), for a value few inputs are.
let remoteValue: z.ZodType<{ data: string }> | undefined;
const RemoteValue = () => (remoteValue ??= z.object({ data: z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'not base64') }));

export class RemoteValueError extends LedgerError {
  constructor(message: string) {
    super(`remote cache value: ${message}`);
    this.name = 'RemoteValueError';
  }
}

/** `{"data": "<base64 pickle>"}` to the pickle's bytes. */
export function decodeRemoteValue(text: string): Uint8Array {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new RemoteValueError(`not JSON: ${(e as Error).message}`);
  }
  const r = RemoteValue().safeParse(json);
  if (!r.success) throw new RemoteValueError(r.error.issues.map((i) => `${i.path.join('.') || 'value'}: ${i.message}`).join('; '));
  return new Uint8Array(Buffer.from(r.data.data, 'base64'));
}

/** The JSON PyTorch's remote cache stores (json.dumps of {"data": base64}). */
export function encodeRemoteValue(pickle: Uint8Array): string {
  return JSON.stringify({ data: Buffer.from(pickle).toString('base64') }).replace('{"data":', '{"data": ');
}
