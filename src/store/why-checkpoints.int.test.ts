import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32, deflateRawSync, deflateSync, inflateRawSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../../test/support/tmp.ts';
import { DIALECTS, ledgerAt } from '../../test/support/postgres.ts';
import { ingestFile } from '../adapters/ingest-file.ts';
import { codeKey } from '../model/code-id.ts';
import { reportProfile } from '../report/report-data.ts';
import { openLedger, type Ledger } from './ledger.ts';
import { dictionaries, leanEvent } from './log.ts';
import { verifyLedger } from './verify.ts';
import type { Window } from './window.ts';
import { explain } from './why.ts';
import { decodeWhyState, encodeWhyState, whyCheckpointPositions } from './why-checkpoints.ts';
import { eventDetails, KEEP_ALL, whyStateText, type WhyState } from './why-fold.ts';
import type { CodeId } from '../model/code-id.ts';

/**
 * The why-checkpoints' stored form: version 5 (the dims in pieces of 64 sources, reused while
 * unchanged, each source's lines its first step, which stands for the dims no later step
 * changed, its `[code, source, saw, last]` and its dims; the rest its counted bodies, run lists
 * by index) against the answers folded from the start, and version 4, 3, 2 and 1 rows (written
 * before it) still read.
 */

/** A version-7 state (version 6's bytes: version 5's and a CRC-32) taken apart: each acc's first step and own dims text, and its rows ([code, source, saw, last, carried], runs written out). */
function takeApart(state: Uint8Array): { firsts: string[]; dims: string[]; rows: unknown[][] } {
  assert.equal(state[0], 0x07);
  const b = Buffer.from(state).subarray(0, state.length - 4);
  const firsts: string[] = [];
  const dims: string[] = [];
  const heads: unknown[][] = [];
  let at = 5;
  for (let i = 0; i < b.readUInt32BE(1); i++) {
    const len = b.readUInt32BE(at);
    const text = inflateRawSync(b.subarray(at + 4, at + 4 + len)).toString();
    const lines = text[0] === '\n' ? text.slice(1).split('\n') : (JSON.parse(text) as string[]);
    for (let j = 0; j < lines.length; j += 3) firsts.push(lines[j]), heads.push(JSON.parse(lines[j + 1]) as unknown[]), dims.push(lines[j + 2]);
    at += 4 + len;
  }
  const [lists, carried] = JSON.parse(inflateRawSync(b.subarray(at)).toString()) as [string[][], [number, number, number | string[]][][]];
  return { firsts, dims, rows: heads.map((h, i) => [...h, carried[i].map(([body, n, runs]) => [body, n, typeof runs === 'number' ? lists[runs] : runs])]) };
}

/** A stored form of pieces: the version byte, the pieces' count, each piece (a uint32 length and its raw deflate), then the rest's raw deflate. */
function withPieces(version: number, pieces: string[], rest: string): Buffer {
  const out: Buffer[] = [Buffer.of(version, 0, 0, 0, 0)];
  for (const text of pieces) {
    const piece = deflateRawSync(text);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(piece.length);
    out.push(len, piece);
  }
  out[0].writeUInt32BE(pieces.length, 1);
  out.push(deflateRawSync(rest));
  return Buffer.concat(out);
}

/** Items in groups of 64 (a piece's accs). */
function by64<T>(items: T[]): T[][] {
  const groups: T[][] = [];
  for (let i = 0; i < items.length; i += 64) groups.push(items.slice(i, i + 64));
  return groups;
}

/** The same state in version 4's form: each piece's lines an acc's first step and its dims, then the run lists (none shared here) and the rows. */
function asVersion4({ firsts, dims, rows }: { firsts: string[]; dims: string[]; rows: unknown[][] }): Buffer {
  const at = dims.map((_, i) => i);
  return withPieces(0x04, by64(at).map((g) => `\n${g.flatMap((j) => [firsts[j], dims[j]]).join('\n')}`), JSON.stringify([[], rows]));
}

/** A state as versions 1-3 held it: each acc's dims all written out (no first step), and its rows as version 2 wrote them. */
function asBefore(state: WhyState, codeRow: (c: CodeId) => number): { dims: string[]; rows: unknown[][] } {
  const j = JSON.parse(whyStateText(state, codeRow, false)) as unknown[][];
  return { dims: j.map((r) => r[3] as string), rows: j.map((r) => [r[0], r[1], r[2], r[4], r[5]]) };
}

/** The same state in version 3's form: pieces of 64 dims texts, a line each, then the run lists (none shared here: each body's written out) and the rows. */
function asVersion3({ dims, rows }: { dims: string[]; rows: unknown[][] }): Buffer {
  return withPieces(0x03, by64(dims).map((g) => `\n${g.join('\n')}`), JSON.stringify([[], rows]));
}

/** The same state in version 2's form: pieces of 64 dims as JSON strings, then the rows. */
function asVersion2({ dims, rows }: { dims: string[]; rows: unknown[][] }): Buffer {
  return withPieces(0x02, by64(dims).map((g) => JSON.stringify(g)), JSON.stringify(rows));
}
for (const dialect of DIALECTS) describe(dialect, () => {
  const T0 = Date.UTC(2026, 10, 28, 10, 0, 0);
  /** 50 code ids x 3 sources (150 accs: three pieces); dims turning dynamic at different points, some late. */
  function lines(from: number, n: number): string {
    const out: string[] = [];
    for (let i = from; i < from + n; i++) {
      const c = i % 50;
      const code = { filename: `/m${c % 7}.py`, firstlineno: 1 + c, name: `f${c}`, file_hash: 'h' };
      const source = ["L['x']", "L['y']", "L['z']"][Math.floor(i / 50) % 3];
      // a few sources change dim 0 now and then, one of them only late in the log
      const d0 = c % 9 === 0 ? [8, 16][Math.floor(i / 150) % 2] : c === 13 && i > 900 ? 9 : 8;
      const size = [d0, 4 + (c % 4)];
      out.push(JSON.stringify({ job: 'w', run: `r${Math.floor(i / 300)}`, time: new Date(T0 + i * 1000).toISOString(), code, source, kind: 'tensor', size, stride: [size[1], 1] }));
    }
    return out.join('\n') + '\n';
  }
  const dir = tempDir();
  let l: Ledger;
  let pid: number;
  const windows: Window[] = [{}, { untilTime: Number.MAX_SAFE_INTEGER }]; // (a what-if that leaves nothing out: an unknown run is an error)
  for (let p = 1; p <= 1200; p += 97) windows.push({ untilPosition: p });
  // an answer, or the error it is (a window before L['y']'s first event has none: explain says so)
  const told = <T>(f: () => T): T | string => {
    try {
      return f();
    } catch (e) {
      return (e as Error).message;
    }
  };
  const answers = () =>
    JSON.stringify(
      windows.map((w) => [explain(l, pid, { window: w }), told(() => explain(l, pid, { window: w, source: "L['y']" })), reportProfile(l, l.profileByKey('w:None:')!, w)]),
      (_k, x) => (typeof x === 'bigint' ? `${x}n` : x),
    );
  /** The answers folded from the start (no why-checkpoint), the checkpoints then rebuilt. */
  const fromStart = () => {
    l.sql.run('delete from why_checkpoints');
    const a = answers();
    l.replay();
    return a;
  };
  // equal answers, without printing megabytes where they differ
  const same = (a: string, b: string) => assert.ok(a === b, `the answers differ from the ${a.length}th character on: ${a.slice([...a].findIndex((c, i) => c !== b[i]), 200)}`);
  const codeRow = (c: CodeId) => l.sql.get<{ id: number }>('select id from codes where name = ? and firstlineno = ?', c.name, c.firstlineno)!.id;

  before(async () => {
    process.env.PGO_LEDGER_CHECKPOINT_EVERY = '100';
    l = await openLedger(ledgerAt(dialect, dir, 'w.db'));
    // batches that each cross a checkpoint, the ledger kept open: the append path writes one state again and again
    for (let k = 0; k < 8; k++) {
      writeFileSync(join(dir, `part${k}.jsonl`), lines(k * 150, 150));
      await ingestFile(l, join(dir, `part${k}.jsonl`));
    }
    pid = l.profileByKey('w:None:')!.id;
  });
  after(async () => {
    delete process.env.PGO_LEDGER_CHECKPOINT_EVERY;
    await l.close();
  });

  it('issue 10.7: version-5 why-checkpoints, written by replay and by the append, give the answers a fold from the start gives, and verify passes', async () => {
    const want = fromStart();
    // one each 150 events (the profile's 150 entries: checkpointDue), not each 100
    assert.ok(whyCheckpointPositions(l.sql, pid).length >= 7, String(whyCheckpointPositions(l.sql, pid)));
    const state = l.sql.get<{ state: Uint8Array }>('select state from why_checkpoints where profile_id = ? order by position desc limit 1', pid)!.state;
    assert.equal(state[0], 0x07);
    assert.equal(Buffer.from(state).readUInt32BE(1), 3, 'three pieces of dims');
    const parts = takeApart(state);
    assert.ok(parts.rows.some((r) => (r[4] as unknown[]).length > 1), 'sources with several bodies');
    // every source's first step written once; its own dims only those a later step changed (dim 0 of some)
    assert.equal(parts.firsts.filter((f) => f !== '').length, 150);
    assert.ok(parts.dims.filter((d) => d === '').length > 100, 'sources no later step changed: no dims text');
    const before = asBefore(decodeWhyState(state, dictionaries(l.sql), KEEP_ALL), codeRow);
    assert.ok(parts.dims.join('').length * 4 < before.dims.join('').length, `own dims ${parts.dims.join('').length} characters, all ${before.dims.join('').length}`);
    same(answers(), want);
    assert.deepEqual(verifyLedger(l).differences, []);
    // the append path's states, written again as batches come
    l.sql.run('delete from why_checkpoints');
    for (let k = 0; k < 9; k++) {
      writeFileSync(join(dir, `more${k}.jsonl`), lines(1200 + k * 100, 100));
      await ingestFile(l, join(dir, `more${k}.jsonl`));
    }
    // one each second batch (150 events since the last, and its 150 entries)
    assert.ok(whyCheckpointPositions(l.sql, pid).length >= 4, String(whyCheckpointPositions(l.sql, pid)));
    assert.deepEqual(verifyLedger(l).differences, []);
    const appended = answers();
    same(appended, fromStart());
    same(answers(), appended);
    assert.deepEqual(verifyLedger(l).differences, []);
  });

  for (const version of [1, 2, 3, 4]) {
    it(`issue 10.7: version-${version} why-checkpoints (written before version 5) are still read: the same state, the same answers, and verify passes`, () => {
      const want = fromStart();
      const dict = dictionaries(l.sql);
      const rows = l.sql.allRaw('select position, state from why_checkpoints where profile_id = ?', pid);
      for (const [position, state] of rows as [number, Uint8Array][]) {
        assert.equal(state[0], 0x07);
        const parts = asBefore(decodeWhyState(state, dict, KEEP_ALL), codeRow);
        // version 1: one zlib stream of [code, source, saw, dims, last, carried] rows
        const old = version === 1 ? deflateSync(JSON.stringify(parts.rows.map((r, i) => [r[0], r[1], r[2], parts.dims[i], r[3], r[4]])), { level: 1 }) : version === 2 ? asVersion2(parts) : version === 3 ? asVersion3(parts) : asVersion4(takeApart(state));
        assert.equal(old[0], version === 1 ? 0x78 : version);
        assert.equal(whyStateText(decodeWhyState(old, dict, KEEP_ALL), codeKey, false), whyStateText(decodeWhyState(state, dict, KEEP_ALL), codeKey, false));
        l.sql.run('update why_checkpoints set state = ? where profile_id = ? and position = ?', old, pid, position);
      }
      same(answers(), want);
      // verify reads every one (an unreadable one would be named)
      assert.deepEqual(verifyLedger(l).differences, []);
      l.replay();
    });
  }

  it('issue 10.7: a version-5 piece whose dims text holds a newline (a damaged older row can give one) is written as JSON strings, and reads back the same', () => {
    fromStart();
    const dict = dictionaries(l.sql);
    const state = l.sql.get<{ state: Uint8Array }>('select state from why_checkpoints where profile_id = ? order by position desc limit 1', pid)!.state;
    const st = decodeWhyState(state, dict, KEEP_ALL);
    // an acc of the second piece with dims of its own
    const acc = [...st.accs.values()].slice(64, 128).find((a) => a.dimsText !== '')!;
    assert.ok(acc.dimsText!.includes(','));
    // JSON whitespace: the same dims
    acc.dimsText = acc.dimsText!.replace(',', ',\n');
    const again = encodeWhyState(st, codeRow);
    const b = Buffer.from(again);
    let at = 5;
    const first: string[] = [];
    for (let i = 0; i < b.readUInt32BE(1); i++) {
      const len = b.readUInt32BE(at);
      first.push(inflateRawSync(b.subarray(at + 4, at + 4 + len)).toString()[0]);
      at += 4 + len;
    }
    assert.deepEqual(first, ['\n', '[', '\n']);
    assert.equal(whyStateText(decodeWhyState(again, dict, KEEP_ALL), codeKey, false), whyStateText(decodeWhyState(state, dict, KEEP_ALL), codeKey, false));
  });

  it('issue 10.7: a damaged version-5 (or version-4 or -3) why-checkpoint costs time, not the answer, and verify names it', () => {
    const want = fromStart();
    const rows = l.sql.allRaw('select position, state from why_checkpoints where profile_id = ? order by position', pid) as [number, Uint8Array][];
    const b = Buffer.from(rows[3][1]);
    const damage: Buffer[] = [
      b.subarray(0, b.length >> 1), // cut short
      Buffer.concat([b.subarray(0, 1), Buffer.from([0xff, 0xff, 0xff, 0xff]), b.subarray(5)]), // a count of pieces past its end
      Buffer.concat([b.subarray(0, 1), Buffer.from([0, 0, 0, 2]), b.subarray(5)]), // a piece too few: rows and dims disagree
      Buffer.from([0x05]),
      Buffer.from([0x07, 0, 0, 0, 0]), // an unknown version
      (() => {
        // a version-4 piece with a first step and no dims line after it
        const one = deflateRawSync(`\n${takeApart(b).firsts[0]}`);
        const len = Buffer.alloc(4);
        len.writeUInt32BE(one.length);
        return Buffer.concat([Buffer.of(0x04, 0, 0, 0, 1), len, one, deflateRawSync(JSON.stringify([[], [takeApart(b).rows[0]]]))]);
      })(),
      ...(() => {
        // a version-5 piece of one source: its first step and head without its dims; its head no [code, source, saw, last]
        const parts = takeApart(b);
        const [code, source, saw, last, carried] = parts.rows[0];
        const one = (lines: string[]) => {
          const piece = deflateRawSync(`\n${lines.join('\n')}`);
          const len = Buffer.alloc(4);
          len.writeUInt32BE(piece.length);
          return Buffer.concat([Buffer.of(0x05, 0, 0, 0, 1), len, piece, deflateRawSync(JSON.stringify([[], [carried]]))]);
        };
        return [one([parts.firsts[0], JSON.stringify([code, source, saw, last])]), one([parts.firsts[0], JSON.stringify([code, source, saw]), parts.dims[0]]), one([parts.firsts[0], JSON.stringify({ code }), parts.dims[0]])];
      })(),
      // version 5's rest a source short of its pieces' heads
      (() => {
        const parts = takeApart(b);
        let end = 5;
        for (let i = 0; i < b.readUInt32BE(1); i++) end += 4 + b.readUInt32BE(end);
        return Buffer.concat([b.subarray(0, end), deflateRawSync(JSON.stringify([[], parts.rows.slice(1).map((r) => r[4])]))]);
      })(),
      ...(() => {
        // a body's runs named by a run list the row does not hold (version 3's rows, as version 4's)
        const parts = asBefore(decodeWhyState(b, dictionaries(l.sql), KEEP_ALL), codeRow);
        const v2 = asVersion2(parts);
        const at = v2.length - deflateRawSync(JSON.stringify(parts.rows)).length;
        const rows = parts.rows.map((r) => [r[0], r[1], r[2], r[3], (r[4] as unknown[][]).map(([body, n]) => [body, n, 7])]);
        return [Buffer.concat([Buffer.of(0x04), v2.subarray(1, at), deflateRawSync(JSON.stringify([[], rows]))]), Buffer.concat([Buffer.of(0x04), v2.subarray(1, at), deflateRawSync(JSON.stringify(rows))])];
      })(),
    ];
    for (const bad of damage) {
      l.sql.run('update why_checkpoints set state = ? where profile_id = ? and position = ?', bad, pid, rows[3][0]);
      same(answers(), want);
      const d = verifyLedger(l).differences;
      assert.equal(d.length, 1, d.join('\n'));
      assert.match(d[0], new RegExp(`why-checkpoint at ${rows[3][0]} (is unreadable|differs)`));
    }
    l.replay();
    assert.deepEqual(verifyLedger(l).differences, []);
  });

  it('issue 10.7: verify compares a version-7 why-checkpoint with the log: another position\'s state, readable, is named as differing; one of an older version (folded by an older rule) is read, not compared', () => {
    fromStart();
    const rows = l.sql.allRaw('select position, state from why_checkpoints where profile_id = ? order by position', pid) as [number, Uint8Array][];
    const v7 = Buffer.from(rows[2][1]);
    assert.equal(v7[0], 0x07);
    const put = (state: Uint8Array) => l.sql.run('update why_checkpoints set state = ? where profile_id = ? and position = ?', state, pid, rows[3][0]);
    put(v7);
    const d = verifyLedger(l).differences;
    assert.equal(d.length, 1, d.join('\n'));
    assert.match(d[0], new RegExp(`why-checkpoint at ${rows[3][0]} differs from the log`));
    // the same bytes as version 6 (its CRC made right) and as version 4: read, and not compared
    const v6 = Buffer.from(v7);
    v6[0] = 0x06;
    v6.writeUInt32BE(crc32(v6.subarray(0, v6.length - 4)), v6.length - 4);
    for (const state of [v6, asVersion4(takeApart(v7))]) {
      put(state);
      assert.deepEqual(verifyLedger(l).differences, []);
    }
    l.replay();
    assert.deepEqual(verifyLedger(l).differences, []);
  });

  it('issue 10.7: details read a page at once (many asked of one page) are the ones read one by one, gaps in the positions and pages crossed, in order and not', async () => {
    const d = await openLedger(ledgerAt(dialect, dir, 'details.db'));
    try {
      const many: string[] = [];
      for (let i = 0; i < 9000; i++) {
        many.push(JSON.stringify({ job: 'd', run: i % 11 ? `r${i % 4}` : undefined, time: new Date(T0 + i * 7).toISOString(), code: { filename: '/d.py', firstlineno: 1 + (i % 40), name: 'f', file_hash: 'h' }, source: "L['x']", kind: 'tensor', size: [i % 9, 3], stride: [3, 1] }));
      }
      writeFileSync(join(dir, 'details.jsonl'), many.join('\n') + '\n');
      await ingestFile(d, join(dir, 'details.jsonl'));
      // gaps: single positions, a run of them, a whole page's worth near its end
      d.sql.run('delete from events where position % 7 = 3 or (position > 100 and position < 140) or (position > 4000 and position < 4200)');
      const dict = dictionaries(d.sql);
      const positions = d.sql.allRaw('select position from events order by position').map((r) => r[0] as number);
      assert.ok(positions.length > 7000);
      const want = (position: number) => {
        const r = d.sql.allRaw('select time, origin_id, origin_line, compile_id from events where position = ?', position)[0];
        return [r[0], r[1] === null ? null : dict.origin(r[1] as number), r[2], r[3]];
      };
      const orders = [positions, [...positions].reverse(), positions.map((_, i) => positions[(i * 7919) % positions.length])];
      for (const order of orders) {
        const details = eventDetails(d.sql, dict);
        const ev = leanEvent();
        for (const position of order) {
          ev.position = position;
          details(ev);
          assert.deepEqual([ev.time, ev.origin, ev.originLine, ev.compileId], want(position), `position ${position}`);
        }
      }
    } finally {
      await d.close();
    }
  });
});

/** An older state with each dims text's `from` (a file's path) written as `to`. */
function withOrigin(v3: Buffer, from: string, to: string): Buffer {
  const out: Buffer[] = [v3.subarray(0, 5)];
  let at = 5;
  for (let i = 0; i < v3.readUInt32BE(1); i++) {
    const len = v3.readUInt32BE(at);
    const text = inflateRawSync(v3.subarray(at + 4, at + 4 + len)).toString();
    assert.ok(text.includes(JSON.stringify(from)));
    const piece = deflateRawSync(text.replaceAll(JSON.stringify(from), JSON.stringify(to)));
    const n = Buffer.alloc(4);
    n.writeUInt32BE(piece.length);
    out.push(n, piece);
    at += 4 + len;
  }
  out.push(v3.subarray(at));
  return Buffer.concat(out);
}

// what main's `PGO_LEDGER_CHECKPOINT_EVERY=10 pgo-ledger ingest <file>` of the lines below wrote at position 12
const WRITTEN = [
  { version: 3, main: '626f88e', file: '/tmp/s18r/fx/w.jsonl', state: 'AwAAAAEAAAG2zVbLbsIwEDzDV6A9tdJCvJDScOIjelz5EEqqUqWAEvoQX1/ZDnErFPJaUJEA40jxzGRnmGH+HKdxNmBmQnpcPERz5V4ImQKE4PC+D3KKsuDlO/iavOW7bQpIuP1IU4T8Nd4nk90qT7LPZA12V2tkVghLMG+Nv9b2x5hwTMiEEK/yZHsA7W5m78ha60G+OSaiiJAXnlyklELIqJLcogE5jnAUakAoFtoS4uVpl+Z2ZbRQaAlbev7DET1km7Us1UJ8frqjexyRhViuHRxl9PdI/urOSv9z6SNAiMxckZsxmsOJl7Kb5qKnV04UkyyzQukQEMISQZWy9kFLa1sgMI8XEOzXSYnLOK6jhHEU1Sgx9Hkz9ZYkZ8nqvJk2sGT/vJFGdBYSNg2q7VemgTiQMgEQfDLUzcrmmBQTK42nsHCNHOZ8N6nS57f3rDSCrp6VxtHSszPv2WmdZ2c38awYImTyDcgE0uWSQE0q0FkA9GwJYmSFWoIYnmuI37MniHHr3BOkEXTNHGkcLTMn9Jkzq8uc8CaZI43oLCZq/hjLniAOpGdPkMbTtidIn9++J0gj6OpZaRxNPPsDvY8xCsMwEAT/so2bLSzFRdAb8oPjCMZSQOC4kBKwY/z3ILlIk4CrVLcs3A4jIkgtlIJk9tOCNStFDHGRZm4UtFyRh37sExz8MvX3OIDI8RXg5NN0SuRHir7UK+J0CwnObDRKhHkYnz74a3nLcHJmp1sFWbZKsTQ0qjUdRJeJn8h9+0RbN3ed5T869ovOAfRhHdU3' },
  { version: 4, main: 'f471bec', file: '/tmp/s18r2/fx/w.jsonl', state: 'BAAAAAEAAAEazZRNbsIwEIXX5BTVW0+JJ6TgsOEgo1mkENRUISCb/iLuXjkpjbpokIBK8cKyxx5Z3/ObiYSJZ9mDnZp2EJwBId5vdrFn65J4/R6/jZ/9tq5ATPVLVRH8U74rxttHX7jXYoU2eoBf5lXuMMfqo8435RIEX34WmIulVAl+78pV2B5Q1uvCYc5HYj3S5akahRdGIrcDUZKsE8UaYwiO/xYl6xFFlUQMQSzdpYqfhZIwQRanKE+bVbhuiOn+W+hG7WYSVR0FVDE6eFoLgkXLuACBp2jJDJkGPBz+Zosk6TTnVvMeIyY9ml/hpitSNYpk0iEkZxEmA0Q41dLNQIIHug4T/vVMMXFfi/m3aho470X1lHZmnJw1YzpAM34BvY8xCsMwEAT/so2bLSzFRdAb8oPjCMZSQOC4kBKwY/z3ILlIk4CrVLcs3A4jIkgtlIJk9tOCNStFDHGRZm4UtFyRh37sExz8MvX3OIDI8RXg5NN0SuRHir7UK+J0CwnObDRKhHkYnz74a3nLcHJmp1sFWbZKsTQ0qjUdRJeJn8h9+0RbN3ed5T869ovOAfRhHdU3' },
];

for (const { version, main, file, state } of WRITTEN) describe(`a version-${version} why-checkpoint main wrote (${main})`, () => {
  it('issue 10.7: still reads: the same state as the version-5 one written now, the same answers, and verify passes', async () => {
    const T0 = Date.UTC(2026, 10, 28, 10, 0, 0);
    // two code ids, two sources each; dim 0 of f0's two sources turns dynamic late
    const out: string[] = [];
    for (let i = 0; i < 12; i++) {
      const c = i % 2;
      const code = { filename: '/m.py', firstlineno: 1 + c, name: `f${c}`, file_hash: 'h' };
      const size = [i >= 8 && c === 0 ? 16 : 8, 4];
      out.push(JSON.stringify({ job: 'w', run: `r${Math.floor(i / 6)}`, time: new Date(T0 + i * 1000).toISOString(), code, source: ["L['x']", "L['y']"][Math.floor(i / 2) % 2], kind: 'tensor', size, stride: [size[1], 1] }));
    }
    const dir = tempDir();
    writeFileSync(join(dir, 'w.jsonl'), out.join('\n') + '\n');
    // its evidence names the file it read: here the same lines' file is another (the pieces' dims texts, deflated anew, name it)
    const older = withOrigin(Buffer.from(state, 'base64'), file, join(dir, 'w.jsonl'));
    process.env.PGO_LEDGER_CHECKPOINT_EVERY = '10';
    const l = await openLedger(join(dir, 'w.db'));
    try {
      await ingestFile(l, join(dir, 'w.jsonl'));
      const pid = l.profileByKey('w:None:')!.id;
      const v5 = l.sql.get<{ state: Uint8Array }>('select state from why_checkpoints where profile_id = ? and position = 12', pid)!.state;
      assert.equal(v5[0], 0x07);
      assert.equal(older[0], version);
      const dict = dictionaries(l.sql);
      const text = (b: Uint8Array) => whyStateText(decodeWhyState(b, dict, KEEP_ALL), codeKey, false);
      assert.equal(text(older), text(v5));
      // an answer from each (the checkpoint at 12 is the one a window to the end starts from)
      const answer = () => JSON.stringify([explain(l, pid, {}), explain(l, pid, { source: "L['x']" }), reportProfile(l, l.profileByKey('w:None:')!, {})]);
      const fromV5 = answer();
      assert.match(fromV5, /"became/);
      l.sql.run('update why_checkpoints set state = ? where profile_id = ? and position = 12', older, pid);
      assert.equal(answer(), fromV5);
      assert.deepEqual(verifyLedger(l).differences, []);
      l.sql.run('delete from why_checkpoints');
      assert.equal(answer(), fromV5);
    } finally {
      delete process.env.PGO_LEDGER_CHECKPOINT_EVERY;
      await l.close();
    }
  });

  it("issue 10.7: one folded by the older rule (the cold traces' second run logs a rank change where the field was dynamic already) passes verify: why never starts from it, so its values seen falling short changes no answer", async () => {
    // what main's `PGO_LEDGER_CHECKPOINT_EVERY=10 pgo-ledger ingest test/fixtures/torch-2.11/traces/cold-local.log
    // test/fixtures/torch-2.11/traces/cold-remote.log` wrote at position 88 (626f88e, version 3)
    const written = Buffer.from('AwAAAAEAAAbC7Vxbb9s2FH5ufwXBPtTZjmOSuhsosqcBe872UkYINFtthdpyIClr0l8/HJKWaMeOlXRWzKUBmqiyRen4XL/D7/htPcsWWfVGSimAR0kQRjwJozgMgX4q7prbKp/eFPMgCn8TTIRjzsci/JMFUz+csugjBTr5tqq+Tr4146YqsoWYNHndTMyl9aRZVbMvY3HO+aSpslleT2arxXy8WM2yxfli9ZkCT0KgbMIo0LxsqvvzYnmzqpp8ToHe3DbX6q3Xs9U8v66brMlpmoKUDOgFxX8pWMfqP2MOYw6SA83+rvOyoSmUt4uF/iXTNH1TF99zpyQG6dvKiaKhlOOhHbAJp0Dn92W2LGaotM+oHPxM16qQAoiXUqDmIFUfv7zQZ9fvZKA00ylDHWmNNFUxd0snxgrl5YifAeFK+vYYPxgGDA1xp7jF91yy9KcN9gkQPW1QUKACwwHXocFXgQKVwNQ59ZqxZQwAZPYlKz/n6iqgPlVBaEpK8uEDEeTpP+9IlTe3VUnuyC+kJL+Su/P6djk6I+Qdqf7B6FeU+vf5zf1UBKQoyaer8q86r0jdZLOvRAXI6VVJyO/FIidXdFI/uPCKAlkUZU5EAGYFfNTdt6bgxynIVyc0uiZqVIDsmcSsVBclyXaqi6bM/0hT/FG5Q3K3XNeEKo8C9Vqv2BeaVCR2LTgZCTH+UqDqz6EQrOV0U5OYj/kBTb7tKjvPLh5OubIDGXaPGjPmD1Xn+Iz3qXO2c0znTTtyjCqsN7MMeiCbsP9blgmYlWVej9ihyjPe8fIM1ofO+K4JwT+AyloM8GpktmI053bkS4KhIl+CQZa/CPx2R2SQ3LLJmPt8KPVwFoWon4MI3AcSKgyqDwwC94FcpB1W74XAXVKLYJbXiAHV4ifKbbAgeLQx0nYEgHadgq490lc5Xb/AHe2YhIDIusPi+1AHCqhrcXcEPP2oEFKgodUTiVrMoOtV9ZqJLps9EbwyQpSB1WqTl/WqIu+z90S9a1nUy6yZfSFZQ4pynt8Rfk7yu5t81uRzEgLJZs1ttiARhSDC0lDHr+PcgXuqDIuOVIbZcNgp00xeKjLqhHUoMm5A9bZp14FabaAaySsLwgVrpY0OU/1RfsqrS3VyNC+WHxT6V+B4wjfNVl/4uOHy1nD9q/KB4e9bge00fU4hRMOkfOLcg/NEeRQ/qke5F+xPvdYwTaHWl7adg51tRX+OmWGPgeJiOxZQpejLe5bv6IMLbJRIejliZ0dxLhtPWtu5MXsdeNIZkUHywErPPBgQTyZxLzwZAgkUntQHHWTBs0/a0eXOqMUglg6obYC23lu67gh8+nZ4AggGq6HjIpjgqAjGgtaueWJAgQZt1bKvd6Aqc7Nj6Y7vmWCzgYMOhBgtqKmcXdOlKU8fFdGqX4TFeIo9Plg/nIehSpCI2gbnozknswyB+OsywU/7uaqiPbkn6u5W7qP2rNkihujlnMQm9/aQ0LAonJOwX2/azi/uhaXnJhj3JH1qhrG5Jl6QDLWlJxgLgIoX2XIV7sgMUkQWRvZiMZiCeMxQQWhPj27ueevkpw867ukITwAJtjtusn3jevlimZd1sSqzRdHcd41ttQBS2bqVlMl0rbfmPamy8itZt7StLrRo+9jITVEbMEaYYe4mqZJTNxB4Tw6mYVeqWKsKBKcsNX4pS8VuTg9L3V27tK3i0XarFynt2+cE0twfWHS7MqLkA2a2vaIizisr3/XK9jlz/+f6gWJCn/oDyjVL4HKkxE0pPNGBOqbAz1jfY/pI9Iz1hju99piuAboeL/B2jxmtqeJORbMTz7umat+vC3+HLjaKeKe0ceK5ZQNf7NeJetvDSTy7peVWwDpxtRgwtF8huPvbzabhFJ7VffNsKB+Gg21PiSjwgXovgo0ckhmkbxMfw+EGQkUSRKigg9hIAAmAxKo32B53u4gX+rUuj/YYDXVIQZs7iV0x96C8OzSl1JVzDkkP0rPZZ4Oap5f0MU/s7tvDorsHebSZb9IW8UpVDNrEyLu9xEibHbaBy2PFDjvmHTxN4zrifIopbp2yzFMPnGbLc5236TZlN1CkrV12g1ciZdf7UctU7Kpj3sHXNKhjUXYxZgo1oeuQZZqMEVOgcb9tNLPj7Z6MG4jhwO6SjQ9clFToeWTR9c0eZzG4ardP3HvxbPqbE/jCVAwHzNV8sYx74v0nY5vOKfXZUttQ2W4mnbYpg/Rt1lDkeYNtqSVx2Kcu32qzWoNjeh4Eu6zSwE/9/Qbdnhlei63BH65/cK77yPfwhaL8HfE7StTsuDumacqfZzvkGz0a9Mqk/hetk8FuwjAMht/Fl14MqtO0HTntAXbciShCBYJUDdDUMokN8e6TW5wUxqgm7ZQojfr5+2Nba2FTHw8fjTfv9Tovi2eVqmJCNFHFa5obXZi0nIPDq3vlbHZ7rzSpnoNzaC0hvNjkmDhAhSdoV9W2asDA+nNf7eoVILT1lwdj40nmENpDU6/5+AT1fuMbMHRGcme0ViFh6tCWlzWbISE5tJq6DWN76p6p9IgaoYEYjpiVXRhPl1WnwuIqyDFLdYbVuKHG8O+hYTgcfGY2sQ6LkpgqUddcV6ecy4bvDOtZjtcTwfmwnp+Jk3Ap5KCFW9xwq8RNF8uq9WPvXaB+TFUSvmZq75Z1WR9G3aLa/XdVnBtnG4RCE8WH1X9v3ch9+k0uxKukoTOJN5Nqcmmz/Laa1m83iZvyGPnr3lYySbGG++4h1h7CLdyb7qr2bbH1/zA1ggg+/WSi1eLj3Dc=', 'base64');
    const dir = tempDir();
    process.env.PGO_LEDGER_CHECKPOINT_EVERY = '10';
    const l = await openLedger(join(dir, 'w.db'));
    try {
      for (const f of ['cold-local', 'cold-remote']) await ingestFile(l, `test/fixtures/torch-2.11/traces/${f}.log`);
      const pid = l.profileByKey('fixture:None:')!.id;
      // the last why-checkpoint, where that build wrote it after the same two traces (position 88
      // then: the trace ingest has kept more evidence since, ints' symbols and each compile's own
      // snapshot entries, so the log is longer)
      const at = Number(l.sql.get<{ p: number }>('select max(position) as p from why_checkpoints where profile_id = ?', pid)!.p);
      const now = l.sql.get<{ state: Uint8Array }>('select state from why_checkpoints where profile_id = ? and position = ?', pid, at)!.state;
      assert.equal(now[0], 0x07);
      assert.equal(written[0], 0x03);
      const dict = dictionaries(l.sql);
      const text = (b: Uint8Array) => whyStateText(decodeWhyState(b, dict, KEEP_ALL), codeKey, false);
      // the older rule's state: run b's (3, 4, 5) of L['t'] not among the values seen
      assert.notEqual(text(written), text(now));
      const answer = () => JSON.stringify([explain(l, pid, {}), reportProfile(l, l.profileByKey('fixture:None:')!, {})]);
      const fromNow = answer();
      l.sql.run('update why_checkpoints set state = ? where profile_id = ? and position = ?', written, pid, at);
      assert.equal(answer(), fromNow);
      assert.deepEqual(verifyLedger(l).differences, []);
      // one that cannot be read is still named
      l.sql.run('update why_checkpoints set state = ? where profile_id = ? and position = ?', written.subarray(0, written.length >> 1), pid, at);
      assert.match(verifyLedger(l).differences.join('\n'), new RegExp(`why-checkpoint at ${at} is unreadable`));
    } finally {
      delete process.env.PGO_LEDGER_CHECKPOINT_EVERY;
      await l.close();
    }
  });
});
