import { inputName } from '../errors.ts';
import { parseCacheKey, type ProfileKey } from '../model/cache-key.ts';
import type { LineDefaults } from './observation-lines.ts';

/**
 * `--job`/`--rank`/`--tag` name the profile of an input that names none; a trace or a
 * mega-cache names its own, which wins (a pickle's or a remote value's key from a file name
 * or key file gives way to them instead). Where a flag given is not the key's, say so, lest a
 * key the user meant pass unseen (trial 19). Null where every flag given is in the key.
 */
export function flagsNotUsed(file: string, what: string, key: string, d: LineDefaults): string | null {
  let k: ProfileKey | null = null;
  try {
    k = parseCacheKey(key);
  } catch {
    // a key PyTorch wrote unchecked (pgo_extra_write_key) that reads as no job:rank:tag: no flag is in it
  }
  const given: [string, string | number | null | undefined, unknown][] = [
    ['--job', d.job, k?.job],
    ['--rank', d.rank, k?.rank],
    ['--tag', d.tag, k?.tag],
  ];
  const flags = given.filter(([, v]) => v !== undefined);
  if (!flags.some(([, v, inKey]) => v !== inKey)) return null;
  const said = flags.map(([f, v]) => `${f} ${v === null ? 'None' : v}`).join(' ');
  return `${inputName(file)}: ${said} not used: the ${what} names its profile key ${key} (they name the profile of an input that names none)`;
}
