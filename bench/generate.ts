import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { entryFromJson, type EntryJson } from '../src/codecs/entry-json.ts';
import { pickleProfile } from '../src/codecs/pickle/index.ts';
import { codeStateFor, emptyProfile } from '../src/model/profile.ts';

/** Bump when a generator's output changes, so cached files are rebuilt. */
const GEN = 'g1';

/** mulberry32: a small seeded generator, so every file is the same on every machine. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const JOBS = 4;
const CODES = 200;
const SOURCES = ["L['x']", "L['self']._modules['encoder']._modules['layers'][0].weight", "L['attention_mask']", "L['self']._modules['lm_head'].weight", "L['position_ids']"];
const DIMS = [3, 64, 128, 256, 512, 768, 1024];

interface SourceShape {
  /** Fixed sizes; rank 1-4. */
  size: number[];
  /** Dim 0 cycles 8/16/8/32 (30 % of sources). */
  cycle0: boolean;
  /** Dim 1 changes every 2**18 lines (10 % of sources, among those of rank 2 and up). */
  drift1: boolean;
}

/** The shapes of the 200 x 5 sources: fixed per source, the same in every job. */
function shapes(): SourceShape[] {
  const r = rng(10);
  const out: SourceShape[] = [];
  for (let i = 0; i < CODES * SOURCES.length; i++) {
    const rank = 1 + Math.floor(r() * 4);
    const size = Array.from({ length: rank }, () => DIMS[Math.floor(r() * DIMS.length)]);
    out.push({ size, cycle0: r() < 0.3, drift1: false });
  }
  // Exactly 10 % of all sources, chosen among those with a dim 1.
  const ranked = out.filter((s) => s.size.length >= 2);
  const want = Math.round(out.length * 0.1);
  for (let k = 0; k < want && ranked.length; k++) ranked.splice(Math.floor(r() * ranked.length), 1)[0].drift1 = true;
  return out;
}

const HASHES = Array.from({ length: 16 }, (_, k) => ((0x9e3779b1 * (k + 1)) >>> 0).toString(16).padStart(8, '0'));

function contiguous(size: number[]): number[] {
  const s = new Array<number>(size.length);
  let p = 1;
  for (let d = size.length - 1; d >= 0; d--) {
    s[d] = p;
    p *= size[d];
  }
  return s;
}

/**
 * Line i of the realistic observation mix: 4 jobs interleaved, each cycling through its 200
 * code ids x 5 sources in order (as a compiled frame reports all its sources); dim 0 of 30 %
 * of the sources cycling 8/16/8/32 every 1024 lines, dim 1 of 10 % growing every 2**18 lines;
 * the run id changing every 100,000 lines and the time advancing 1 s per 1000 lines.
 */
function mixLine(i: number, sh: SourceShape[]): string {
  const job = i % JOBS;
  const slot = Math.floor(i / JOBS) % (CODES * SOURCES.length);
  const code = Math.floor(slot / SOURCES.length);
  const src = slot % SOURCES.length;
  const s = sh[slot];
  const size = s.size.slice();
  if (s.cycle0) size[0] = [8, 16, 8, 32][(i >> 10) % 4];
  if (s.drift1) size[1] += i >> 18;
  return (
    `{"job":"train-${job}","run":"run-${Math.floor(i / 100_000)}","time":${1_795_600_000 + Math.floor(i / 1000)},` +
    `"code":{"filename":"/srv/train/src/models/transformer/block_${code % 16}.py","firstlineno":${40 + code * 7},"name":"forward_${code}","file_hash":"${HASHES[code % 16]}"},` +
    `"source":${JSON.stringify(SOURCES[src])},"kind":"tensor","size":[${size.join(',')}],"stride":[${contiguous(size).join(',')}]}`
  );
}

/**
 * Writes lines [start, start + n) of the mix to a file (cached by name), or with `job`, only
 * that job's lines of them; returns its path.
 */
export function mixFile(dir: string, start: number, n: number, job?: number): string {
  const path = join(dir, `mix-${GEN}-${start}-${n}${job === undefined ? '' : `-job${job}`}.jsonl`);
  if (existsSync(path)) return path;
  const sh = shapes();
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w');
  let buf: string[] = [];
  for (let i = start; i < start + n; i++) {
    if (job !== undefined && i % JOBS !== job) continue;
    buf.push(mixLine(i, sh));
    if (buf.length === 5000) {
      writeSync(fd, buf.join('\n') + '\n');
      buf = [];
    }
  }
  if (buf.length) writeSync(fd, buf.join('\n') + '\n');
  closeSync(fd);
  renameSync(tmp, path);
  return path;
}

/**
 * `count` TORCH_TRACE logs: copies of the four PyTorch 2.11 traces in test/fixtures, each with
 * its own pid and times shifted by its number of minutes in the glog headers (payloads are
 * kept as they are: has_payload is their MD5), each under its own name (its run id).
 */
export function traceDir(root: string, dir: string, count: number): string {
  const out = join(dir, `traces-${GEN}-${count}`);
  if (existsSync(out)) return out;
  const srcDir = join(root, 'test/fixtures/torch-2.11/traces');
  const sources = readdirSync(srcDir)
    .filter((f) => f.endsWith('.log'))
    .sort()
    .map((f) => ({ name: f.replace(/\.log$/, ''), lines: readFileSync(join(srcDir, f), 'utf8').split('\n') }));
  const tmp = `${out}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const GLOG = /^([VIWEC]\d{4}) (\d\d):(\d\d):(\d\d)(\.\d+ +)(\d+) /;
  for (let t = 0; t < count; t++) {
    const s = sources[t % sources.length];
    const text = s.lines
      .map((l) =>
        l.startsWith('\t')
          ? l
          : l.replace(GLOG, (_m, lv: string, h: string, m: string, sec: string, frac: string) => {
              const x = (Number(h) * 3600 + Number(m) * 60 + Number(sec) + t * 60) % 86400;
              const p2 = (v: number) => String(v).padStart(2, '0');
              return `${lv} ${p2(Math.floor(x / 3600))}:${p2(Math.floor(x / 60) % 60)}:${p2(x % 60)}${frac}${10_000 + t} `;
            }),
      )
      .join('\n');
    writeFileSync(join(tmp, `${String(t).padStart(4, '0')}-${s.name}.log`), text);
  }
  renameSync(tmp, out);
  return out;
}

/**
 * A profile pickle of `codes` code ids (PyTorch's protocol-2 pickle, as the project writes
 * it), 5 entries each, shaped like the mix with dynamic dims where the mix cycles; checked
 * to load in CPython with the stand-in classes.
 */
export function bigProfile(root: string, dir: string, codes: number): string {
  const path = join(dir, `profile-${GEN}-${codes}.pkl`);
  if (existsSync(path)) return path;
  const sh = shapes();
  const p = emptyProfile();
  for (let c = 0; c < codes; c++) {
    const st = codeStateFor(p, { filename: `/srv/train/src/models/transformer/block_${c % 97}.py`, firstlineno: 10 + (c % 5000), name: `forward_${c}`, file_hash: ((0x9e3779b1 * (c + 1)) >>> 0).toString(16) });
    for (let s = 0; s < SOURCES.length; s++) {
      const shape = sh[(c * SOURCES.length + s) % sh.length];
      const size: EntryJson['size'] = shape.size.map((v, d) => ((d === 0 && shape.cycle0) || (d === 1 && shape.drift1) ? 'dynamic' : v));
      const stride: EntryJson['stride'] = contiguous(shape.size).map((v, d) => (size.some((x, k) => k > d && x === 'dynamic') ? 'dynamic' : v));
      st.automaticDynamic.set(SOURCES[s], entryFromJson({ scalar: 'unset', size, stride }));
    }
  }
  const bytes = pickleProfile(p);
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, bytes);
  const n = execFileSync('python3', ['-c', 'import pickle,sys; print(len(pickle.loads(open(sys.argv[1],"rb").read())))', tmp], {
    encoding: 'utf8',
    env: { ...process.env, PYTHONPATH: join(root, 'bench/floors/standin') },
  }).trim();
  if (Number(n) !== codes) throw new Error(`benchmark: CPython loaded ${n} code ids from the generated profile, not ${codes}`);
  renameSync(tmp, path);
  return path;
}
