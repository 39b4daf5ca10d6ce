import * as z from 'zod';
import { LedgerError } from '../errors.ts';
import { PickleError, unpickleProfile } from './pickle/index.ts';
import type { Profile } from '../model/profile.ts';

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
  constructor(message: string, cause?: unknown) {
    super(`remote cache value: ${message}`, { cause, saysCause: cause !== undefined });
    this.name = 'RemoteValueError';
  }
}

/**
 * A remote value to its pickle and profile, as PyTorch reads it. A pickle's byte offset is of
 * the pickle its base64 decodes to, not of the JSON text (trial s36a: "(at byte 2)" of a file
 * whose byte 2 is the JSON's), and is said so.
 */
export function profileOfRemoteValue(text: string): { pickle: Uint8Array; profile: Profile } {
  const pickle = decodeRemoteValue(text);
  try {
    return { pickle, profile: unpickleProfile(pickle) };
  } catch (e) {
    if (!(e instanceof PickleError)) throw e;
    throw new RemoteValueError(`its "data" (base64) decodes to ${pickle.length} bytes that are no profile pickle: ${e.message.replace(/ \(at byte (\d+)\)$/, ' (at byte $1 of the decoded pickle)')}`, e);
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
