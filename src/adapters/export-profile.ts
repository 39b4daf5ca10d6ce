import { execFileSync } from 'node:child_process';
import { mkdirSync, renameSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { inputError } from '../errors.ts';
import { decodeMegaCache, encodeMegaCache, type CacheArtifact } from '../codecs/megacache.ts';
import { pickleProfile, type CodeStrings, type PickleProtocol, type SourceNames } from '../codecs/pickle/index.ts';
import { encodeRemoteValue } from '../codecs/remote-value.ts';
import { localFileName } from '../model/cache-key.ts';
import { closureConflicts, mergeClosures } from '../model/closures.ts';
import { layoutOf, type Profile, type TorchLayout } from '../model/profile.ts';
import { writtenStrings } from './source-names.ts';
import { describeFsError, isFolder } from './write-file-atomic.ts';

// (the command line's `report` imports it from its own module: none of the codecs load for it)
export { writeFileAtomic } from './write-file-atomic.ts';

export type ExportFormat = 'pickle' | 'megacache' | 'remote-json' | 'local-dir';

/** Which pgo.py layout to write (`--torch`), and whether closures may be merged for 2.11. */
export interface LayoutOptions {
  /** Default: the layout the profile's data came in, 2.11 if it never said. */
  torch?: TorchLayout;
  /** `--merge-closures`: code ids that differ only in closure_hash are joined (2.11 cannot hold them apart). */
  mergeClosures?: boolean;
  /** Which equal source names are one object in the pickle (default: writtenStrings, as the profile's writer had them for a profile the ledger handed out, else 'shared'). */
  sourceNames?: SourceNames;
  /** Code ids whose strings were objects of their own where the profile was written (writerStringsFor). */
  codeStrings?: CodeStrings;
}

/**
 * The profile as the layout asked for holds it: for 2.11, code ids that differ only in
 * closure_hash are an input error naming them, unless mergeClosures joins them (then the
 * profile written has fewer code ids than the one asked for: what `export` and `publish` count).
 */
export function profileAsWritten(profile: Profile, o: LayoutOptions = {}, words: LayoutWords = LAYOUT_FIELDS): Profile {
  if ((o.torch ?? layoutOf(profile) ?? '2.11') !== '2.11') return profile;
  const clash = closureConflicts(profile);
  if (!clash.length) return profile;
  if (!o.mergeClosures) throw inputError(`PyTorch 2.11's layout cannot hold code ids that differ only in closure_hash: ${clash.join('; ')}. Write ${words.torch}, or join them with ${words.mergeClosures}`);
  return mergeClosures(profile);
}

/** How the caller names the two ways out in profileAsWritten's error: the library's fields, or the command line's flags. */
export interface LayoutWords {
  torch: string;
  mergeClosures: string;
}
const LAYOUT_FIELDS: LayoutWords = { torch: "torch: '2.12'", mergeClosures: 'mergeClosures: true' };

/** The profile's pickle in the layout asked for (profileAsWritten's profile). */
export function profilePickle(profile: Profile, protocol: PickleProtocol = 4, o: LayoutOptions = {}): Uint8Array {
  // asked of the profile given: profileAsWritten's may be a new one (closures merged)
  const { sourceNames, codeStrings } = o.sourceNames !== undefined ? o : writtenStrings(profile);
  return pickleProfile(profileAsWritten(profile, o), { protocol, layout: o.torch ?? layoutOf(profile) ?? '2.11', sourceNames, codeStrings });
}

export interface ExportOptions extends LayoutOptions {
  format: ExportFormat;
  cacheKey: string;
  protocol?: PickleProtocol;
  /** megacache: an existing bundle whose other artifacts are kept byte for byte. */
  base?: Uint8Array;
}

const BYTE_FORMATS = new Set<string>(['pickle', 'megacache', 'remote-json']);

/** The bytes PyTorch reads for a profile, in one of its formats (not local-dir). */
export function exportBytes(profile: Profile, opts: ExportOptions): Uint8Array {
  // a JavaScript caller's format is unchecked by the types: say it, rather than return undefined
  if (opts.format === 'local-dir') throw inputError('format local-dir: a folder, which writeLocalDir writes; exportBytes gives pickle, megacache or remote-json');
  if (!BYTE_FORMATS.has(opts.format)) throw inputError(`format ${JSON.stringify(opts.format)}: want pickle, megacache or remote-json (local-dir: writeLocalDir)`);
  const pickle = profilePickle(profile, opts.protocol ?? 4, opts);
  switch (opts.format) {
    case 'pickle':
      return pickle;
    case 'remote-json':
      return Buffer.from(encodeRemoteValue(pickle) + '\n');
    case 'megacache': {
      const mine: CacheArtifact = { type: 'pgo', key: opts.cacheKey, content: pickle };
      if (!opts.base) return encodeMegaCache({ version: 1n, artifacts: [mine] });
      let base: ReturnType<typeof decodeMegaCache>;
      try {
        base = decodeMegaCache(opts.base);
      } catch (e) {
        throw inputError('the base is not a mega-cache bundle', e);
      }
      const artifacts: CacheArtifact[] = [];
      let placed = false;
      for (const a of base.artifacts) {
        if (a.type === 'pgo' && a.key === opts.cacheKey) {
          if (!placed) artifacts.push(mine); // this key's profile writes collapse into ours, in place
          placed = true;
        } else artifacts.push(a);
      }
      if (!placed) {
        const lastPgo = artifacts.map((a) => a.type).lastIndexOf('pgo');
        artifacts.splice(lastPgo >= 0 ? lastPgo + 1 : artifacts.length, 0, mine);
      }
      return encodeMegaCache({ version: base.version, artifacts });
    }
  }
  throw new Error(`unreachable: format ${opts.format}`);
}

/**
 * `DIR/dynamo/code_state_<key>.pkl` as PyTorch's write_local_impl writes it, so that
 * TORCHINDUCTOR_CACHE_DIR=DIR picks it up: a temporary file, renamed into place while
 * holding PyTorch's own lock file (flock(1) on `<path>.lock`, as torch.utils._filelock).
 * A failure leaves nothing behind: neither the temporary file nor folders it made.
 */
export function writeLocalDir(dir: string, cacheKey: string, profile: Profile, protocol: PickleProtocol = 4, layout: LayoutOptions = {}): string {
  const path = join(dir, 'dynamo', localFileName(cacheKey));
  const bytes = profilePickle(profile, protocol, layout);
  let made: string | undefined;
  try {
    made = mkdirSync(dirname(path), { recursive: true });
  } catch (e) {
    throw inputError(`cannot write ${path}: ${describeFsError(e, path, path)}`);
  }
  const tmp = `${path}.tmp.${process.pid}`;
  try {
    writeFileSync(tmp, bytes);
    try {
      // -T: a folder at the path is an error, not a folder to move the file into (mv's default)
      execFileSync('flock', ['-E', String(LOCK_TIMED_OUT), '-w', '10', `${path}.lock`, 'mv', '-fT', tmp, path], { stdio: 'pipe' });
    } catch (e) {
      const err = e as NodeJS.ErrnoException & { status?: number | null; stderr?: Buffer };
      if (err.code !== 'ENOENT') throw err;
      // no flock(1) here: the rename alone is still atomic
      if (isFolder(path)) throw Object.assign(new Error('a folder'), { code: 'EISDIR' });
      renameSync(tmp, path);
    }
  } catch (e) {
    rmSync(tmp, { force: true });
    if (made) removeMade(made, path);
    const err = e as NodeJS.ErrnoException & { status?: number | null; stderr?: Buffer };
    if (err.status === LOCK_TIMED_OUT) throw inputError(`cannot write ${path}: another process held its lock ${path}.lock for 10 s`);
    const why = typeof err.status === 'number' ? (isFolder(path) ? 'it is a folder' : err.stderr?.toString().trim() || err.message) : describeFsError(e, tmp, path);
    throw inputError(`cannot write ${path}: ${why}`);
  }
  return path;
}

/** flock(1)'s exit status when it could not take the lock in time (its -E). */
const LOCK_TIMED_OUT = 75;

/** Takes back the folders a failed writeLocalDir made (`made`, the first, down to the file's), where still empty. */
function removeMade(made: string, path: string): void {
  rmSync(`${path}.lock`, { force: true }); // made by this write's flock(1) in a folder it made
  for (let d = dirname(path); d.length >= made.length; d = dirname(d)) {
    try {
      rmdirSync(d);
    } catch {
      return; // another writer's file is in it: keep it
    }
  }
}
