import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pickleProfile, unpickleProfile } from '../src/codecs/pickle/index.ts';

/** The six class names PyTorch's pickles need, so CPython can load them without torch. */
const STANDIN = `import dataclasses, enum
from collections import defaultdict
@dataclasses.dataclass(frozen=True)
class CodeId:
    filename: str
    firstlineno: int
    name: str
    file_hash: str
    def __eq__(self, o): return isinstance(o, CodeId) and (self.file_hash, self.firstlineno, self.name) == (o.file_hash, o.firstlineno, o.name)
    def __hash__(self): return hash((self.file_hash, self.name, self.firstlineno))
@dataclasses.dataclass
class CodeState:
    automatic_dynamic: defaultdict = dataclasses.field(default_factory=lambda: defaultdict(FrameStateSizeEntry))
@dataclasses.dataclass(frozen=True)
class InferStride:
    dim: int
class AutoUnset(enum.Enum):
    token = 0
class AutoDynamic(enum.Enum):
    token = 0
@dataclasses.dataclass
class FrameStateSizeEntry:
    scalar: object = AutoUnset.token
    size: object = AutoUnset.token
    stride: object = AutoUnset.token
`;

function time(fn: () => void, minMs = 1500): number {
  fn();
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < minMs) {
    fn();
    n++;
  }
  return (performance.now() - t0) / n / 1000;
}

export function benchPickle(file: string): void {
  const bytes = readFileSync(file);
  const mb = bytes.length / 1e6;
  let profile = unpickleProfile(bytes);
  const dec = time(() => {
    profile = unpickleProfile(bytes);
  });
  let out: Uint8Array = new Uint8Array();
  const enc = time(() => {
    out = pickleProfile(profile);
  });
  if (!Buffer.from(out).equals(bytes)) throw new Error('benchmark: re-encoded bytes differ from the input');

  const dir = mkdtempSync(join(tmpdir(), 'pgo-bench-'));
  mkdirSync(join(dir, 'torch', '_dynamo'), { recursive: true });
  writeFileSync(join(dir, 'torch', '__init__.py'), '');
  writeFileSync(join(dir, 'torch', '_dynamo', '__init__.py'), '');
  writeFileSync(join(dir, 'torch', '_dynamo', 'pgo.py'), STANDIN);
  let py = 'python3 not available';
  try {
    py = execFileSync(
      'python3',
      [
        '-c',
        `import pickle,sys,time
b=open(sys.argv[1],'rb').read()
def t(f):
    f(); n=0; t0=time.perf_counter()
    while time.perf_counter()-t0<1.5: f(); n+=1
    return (time.perf_counter()-t0)/n
o=pickle.loads(b)
d=t(lambda: pickle.loads(b)); e=t(lambda: pickle.dumps(o))
assert pickle.dumps(o)==b
print(f"{len(b)/d/1e6:.1f} {len(b)/e/1e6:.1f}")`,
        file,
      ],
      { env: { ...process.env, PYTHONPATH: dir }, encoding: 'utf8' },
    ).trim();
  } catch (e) {
    py = `python3 failed: ${(e as Error).message.split('\n')[0]}`;
  }
  const [pyDec, pyEnc] = py.split(' ').map(Number);
  console.log(`pickle codec on ${file.split('/').pop()} (${mb.toFixed(2)} MB, ${profile.codes.size} code ids)`);
  console.log(`  decode: pgo-ledger ${(mb / dec).toFixed(1)} MB/s   CPython pickle.loads ${Number.isFinite(pyDec) ? pyDec.toFixed(1) : py} MB/s`);
  console.log(`  encode: pgo-ledger ${(mb / enc).toFixed(1)} MB/s   CPython pickle.dumps ${Number.isFinite(pyEnc) ? pyEnc.toFixed(1) : py} MB/s`);
}
