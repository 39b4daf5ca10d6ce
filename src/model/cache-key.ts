import { inputError, LedgerError } from '../errors.ts';

/** PyTorch refuses job ids that start with `mast:` (ReservedWorkflowIdUserError). */
export class ReservedJobIdError extends LedgerError {
  constructor(jobId: string) {
    super(
      `job id ${JSON.stringify(jobId)}: torch.compiler.config.job_id with prefix 'mast:' is reserved for ` +
        'automatically generated job id associated with a specific MAST job name and version.',
    );
    this.name = 'ReservedJobIdError';
  }
}

export interface ProfileKey {
  job: string;
  /** The global rank, or null where torch.distributed was not initialised (`None`). */
  rank: number | null;
  tag: string;
}

/** `get_cache_key()`: `{job_id}:{rank}:{tag}`, rank `None` when absent. */
export function cacheKey(k: ProfileKey): string {
  if (k.job.startsWith('mast:')) throw new ReservedJobIdError(k.job);
  return `${k.job}:${k.rank === null ? 'None' : k.rank}:${k.tag}`;
}

/**
 * Split a cache key back into job, rank and tag. The job id may itself hold colons
 * (`team/job:7`), so rank and tag are taken from the right: a tag without a colon first, else
 * (cache_key_tag is any str: `exp:v2`) the tag after the rightmost field that reads as a rank.
 */
export function parseCacheKey(key: string): ProfileKey {
  const m = /^(.*):(None|-?\d+):([^:]*)$/s.exec(key) ?? /^(.*):(None|-?\d+):(.*)$/s.exec(key);
  if (!m) throw inputError(`not a PGO cache key (want job:rank:tag): ${JSON.stringify(key)}`);
  return { job: m[1], rank: m[2] === 'None' ? null : Number(m[2]), tag: m[3] };
}

/** `code_state_path()`'s file name: each of <>:"/\|?* becomes `_`. */
export function localFileName(key: string): string {
  return `code_state_${key}.pkl`.replace(/[<>:"/\\|?*]/g, '_');
}

/**
 * `PGOCacheArtifact._rewrite_cache_key_for_mega_cache`: a `mast:` key is rewritten to the
 * loading job's own key when it has one; any other key is kept.
 */
export function rewriteMegaCacheKey(originalKey: string, currentKey: string | null): string {
  if (!originalKey.startsWith('mast:')) return originalKey;
  return currentKey ?? originalKey;
}
