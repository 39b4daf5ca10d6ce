import assert from 'node:assert/strict';
import { readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli } from '../../test/support/cli.ts';
import { tempDir } from '../../test/support/tmp.ts';
import { pickleProfile } from '../codecs/pickle/index.ts';
import { DYNAMIC } from '../model/atoms.ts';
import { makeScalar } from '../model/entry.ts';
import { updateAutomaticDynamic } from '../model/update.ts';
import { nanOfBits, PyFloat } from '../model/float.ts';
import { codeStateFor, emptyProfile } from '../model/profile.ts';

describe('trial s26b: a nan a profile file carries', () => {
  // A float input fed nan once is static nan in the profile; the next run that loads it and
  // never compiles that code again writes it back static. Joined with the ledger's own nan
  // by `!=` (nan != nan), the later file turned it dynamic: show, history and the export
  // then differed from the file PyTorch wrote and loads.
  const dir = tempDir();
  const code = { filename: '/srv/train/model.py', firstlineno: 24, name: 'forward', file_hash: 'd02731e6' };
  const file = (name: string, sources: [string, PyFloat | number][], at: string) => {
    const p = emptyProfile();
    const state = codeStateFor(p, code).automaticDynamic;
    for (const [s, v] of sources) state.set(s, makeScalar(v));
    const path = join(dir, name);
    writeFileSync(path, pickleProfile(p));
    const t = new Date(at);
    utimesSync(path, t, t);
    return path;
  };
  it('a later file that keeps it static keeps it static: show, history and the export are the file\'s', () => {
    const a = file('code_state_lr_None_.pkl.1', [["L['lr']", new PyFloat(NaN)], ["L['n']", 4]], '2026-11-26T10:00:00Z');
    const b = file('code_state_lr_None_.pkl.2', [["L['lr']", new PyFloat(NaN)], ["L['n']", 4], ["L['k']", 7]], '2026-11-26T11:00:00Z');
    const db = join(dir, 'nan.db');
    const r = cli(db, ['ingest', '--job', 'lr', a, b]);
    assert.equal(r.status, 0, r.stderr);
    const show = cli(db, ['show', '--job', 'lr']);
    assert.match(show.stdout, /L\['lr'\]: scalar nan/);
    assert.doesNotMatch(show.stdout, /dynamic/);
    assert.equal(cli(db, ['history', '--job', 'lr']).stdout.trim(), 'no recompile records');
    const out = join(dir, 'nan.pkl');
    assert.equal(cli(db, ['export', '--job', 'lr', '--format', 'pickle', '-o', out]).status, 0);
    assert.deepEqual(readFileSync(out), readFileSync(b));
  });
  it('a compile fed nan again still turns it dynamic, as `_merge_atom` compares with `!=`; a snapshot keeps it', () => {
    const p = emptyProfile();
    updateAutomaticDynamic(p, code, "L['lr']", makeScalar(new PyFloat(NaN)));
    const again = updateAutomaticDynamic(p, code, "L['lr']", makeScalar(new PyFloat(NaN)));
    assert.deepEqual(again.records.map((r) => [r.reason, r.cached, r.new]), [['scalar change', 'nan', 'nan']]);
    assert.equal(again.entry.scalar, DYNAMIC);
    const q = emptyProfile();
    updateAutomaticDynamic(q, code, "L['lr']", makeScalar(new PyFloat(NaN)), true, true);
    const kept = updateAutomaticDynamic(q, code, "L['lr']", makeScalar(new PyFloat(NaN)), true, true);
    assert.deepEqual(kept.records, []);
    assert.ok(kept.entry.scalar instanceof PyFloat && Number.isNaN(kept.entry.scalar.value));
  });
});

describe("trial s26b: a nan's sign and payload, as CPython keeps them", () => {
  const dir = tempDir();
  const code = { filename: '/srv/train/model.py', firstlineno: 24, name: 'forward', file_hash: 'd02731e6' };
  it('a pickle of nans with other bits (inf - inf on x86, a payload) exports byte for byte; show --json gives their bits', () => {
    const p = emptyProfile();
    const state = codeStateFor(p, code).automaticDynamic;
    state.set("L['neg']", makeScalar(nanOfBits('fff8000000000000')!));
    state.set("L['pay']", makeScalar(nanOfBits('7ff0000000000001')!));
    state.set("L['nan']", makeScalar(new PyFloat(NaN)));
    const bytes = pickleProfile(p);
    // BINFLOAT, big-endian: the bits as given; float('nan')'s for the plain one
    for (const hex of ['fff8000000000000', '7ff0000000000001', '7ff8000000000000']) assert.ok(Buffer.from(bytes).includes(Buffer.from(`47${hex}`, 'hex')), hex);
    const file = join(dir, 'code_state_nb_None_.pkl');
    writeFileSync(file, bytes);
    const db = join(dir, 'bits.db');
    assert.equal(cli(db, ['ingest', file]).status, 0);
    const out = join(dir, 'bits.pkl');
    assert.equal(cli(db, ['export', '--job', 'nb', '--format', 'pickle', '-o', out]).status, 0);
    assert.deepEqual(readFileSync(out), readFileSync(file));
    const shown = JSON.stringify(JSON.parse(cli(db, ['show', '--job', 'nb', '--json']).stdout));
    assert.match(shown, /"L\['neg'\]":\{"scalar":\{"float":"nan","bits":"fff8000000000000"\}/);
    assert.match(shown, /"L\['nan'\]":\{"scalar":\{"float":"nan"\}/);
    // the render prints nan, as Python's repr does for any nan
    assert.match(cli(db, ['show', '--job', 'nb']).stdout, /L\['neg'\]: scalar nan/);
  });
  it('bits that are no nan are refused in a stored body, as any other bad float', () => {
    assert.equal(nanOfBits('7ff0000000000000'), undefined); // inf
    assert.equal(nanOfBits('3ff0000000000000'), undefined); // 1.0
    assert.equal(nanOfBits('7ff8'), undefined);
    assert.equal(nanOfBits('7ff8000000000000')!.nanBits, undefined); // float('nan') itself keeps none
  });
});
