import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli } from '../../test/support/cli.ts';
import { TORCH } from '../../test/support/fixtures.ts';
import { tempDir } from '../../test/support/tmp.ts';

// Trial s29b: one automatic_dynamic record PyTorch would not write (its payload edited and its
// MD5 made again) failed the whole log, "dynamic.logged v1: record.dim_changed: Too small", with
// no line and none of its 53 events: that entry alone is skipped and said, as other damage is.
const dir = tempDir();
const clean = readFileSync(join(TORCH, 'traces', 'cold-local.log'), 'utf8').replace(/, "has_payload": "[0-9a-f]+"/g, '');
const lines = clean.split('\n');
/** The glog line (1-based) of the first automatic_dynamic record, and the payload line of its field. */
const entry = lines.findIndex((l, i) => l.startsWith('V') && lines[i + 2] === '\t"name": "automatic_dynamic",') + 1;
const edited = (field: string, value: string) => {
  const out = [...lines];
  const at = out.findIndex((l, i) => i > entry && l.startsWith(`\t"${field}": `));
  out[at] = `\t"${field}": ${value},`;
  return out.join('\n');
};

describe('a trace: an automatic_dynamic record PyTorch would not write is skipped, said with its line', () => {
  const events = (db: string) => (JSON.parse(cli(db, ['jobs', '--json']).stdout) as { events: number }).events;
  const base = join(dir, 'clean.db');
  writeFileSync(join(dir, 'clean.log'), clean);

  for (const [field, value, said] of [
    ['dim_changed', '-1', /dim_changed -1: want a dim's index \(0 or more\), "scalar" or "all"; skipped/],
    ['dim_changed', '1.5', /dim_changed 1\.5: want a dim's index/],
    ['reason', '"x\\u0000y"', /reason "x\\u0000y": want one of PyTorch's \(scalar change, size change, stride change, dimensionality change, other\); skipped/],
  ] as const) {
    it(`${field} ${value}: the log goes in but that record; exit 0`, () => {
      if (!existsSync(base)) assert.equal(cli(base, ['ingest', join(dir, 'clean.log')]).status, 0);
      const file = join(dir, `${field}-${value.length}.log`);
      writeFileSync(file, edited(field, value));
      const db = join(dir, `${field}-${value.length}.db`);
      const r = cli(db, ['ingest', file]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, new RegExp(`:${entry}: automatic_dynamic for L\\['x'\\] in compile 0/1: `));
      assert.match(r.stderr, said);
      assert.equal(events(db), events(base) - 1, 'every event but the record');
      const records = (db: string) => cli(db, ['history', '--job', 'fixture', '--json']).stdout.trim().split('\n').length;
      assert.equal(records(db), records(base) - 1);
    });
  }
});
