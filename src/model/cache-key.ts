import { inputError, LedgerError } from '../errors.ts';

/**
 * PyTorch refuses a `torch.compiler.config.job_id` that starts with `mast:`
 * (ReservedWorkflowIdUserError). Only a job id is refused: keys PyTorch makes itself may start
 * so (see parseCacheKey).
 */
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

/** `get_cache_key()` from a job id: `{job_id}:{rank}:{tag}`, a `mast:` job id refused. */
export function cacheKey(k: ProfileKey): string {
  if (k.job.startsWith('mast:')) throw new ReservedJobIdError(k.job);
  return formatCacheKey(k);
}

/** `format_cache_key()`: `{key}:{rank}:{tag}`, rank `None` when absent; any key, `mast:` ones too. */
export function formatCacheKey(k: ProfileKey): string {
  return `${k.job}:${k.rank === null ? 'None' : k.rank}:${k.tag}`;
}

/**
 * Split a cache key back into job, rank and tag. A job part that starts with `mast:` is no
 * error here: PyTorch writes such keys itself, `mast:{name}:{version}` for a MAST job that set
 * no job_id (get_cache_key) and any pgo_extra_read_key/pgo_extra_write_key as given
 * (get_extra_cache_key, unchecked); only a job id is refused (cacheKey). The job may itself
 * hold colons (`team/job:7`), so rank and tag are taken from the right: a tag without a colon first, else
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
