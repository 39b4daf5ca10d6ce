import { inputName } from '../errors.ts';
import { parseCacheKey, type ProfileKey } from '../model/cache-key.ts';
import type { LineDefaults } from './observation-lines.ts';
import { ingestWords } from './ingest-words.ts';

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

/** LineContext.used's bits: a line that named no job, rank, tag or run took the default's. */
export const USED_JOB = 1;
export const USED_RANK = 2;
export const USED_TAG = 4;
export const USED_RUN = 8;

/**
 * The flags given that no observation line of the file took: each line names its own (trial
 * s36a: `--job other` or `--run rZ` over lines that name theirs did nothing, unsaid, where a
 * trace's or a mega-cache's key says so). `used`: LineContext.used of every line read; null
 * where every flag given named something, or no line was read.
 */
export function linesFlagsNotUsed(file: string, d: LineDefaults, used: number, lines: number): string | null {
  if (lines <= 0) return null;
  const w = ingestWords(d);
  const given: [string, unknown, number, string][] = [
    [w.job, d.job, USED_JOB, 'job'],
    [w.rank, d.rank, USED_RANK, 'rank'],
    [w.tag, d.tag, USED_TAG, 'tag'],
    [w.run, d.run, USED_RUN, 'run'],
  ];
  const unused = given.filter(([, v, bit]) => v !== undefined && (used & bit) === 0);
  if (!unused.length) return null;
  const said = unused.map(([f, v]) => `${f} ${v === null ? 'None' : v}`).join(' ');
  return `${inputName(file)}: ${said} not used: every line names its own ${unused.map(([, , , field]) => field).join(', ')} (they name what a line leaves out)`;
}
