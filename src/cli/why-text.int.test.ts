import assert from 'node:assert/strict';
import { join } from 'node:path';
import { it } from 'node:test';
import { TORCH } from '../../test/support/fixtures.ts';
import { tempDir } from '../../test/support/tmp.ts';
import { ingestFile } from '../adapters/ingest-file.ts';
import { openLedger } from '../store/ledger.ts';
import { explain } from '../store/why.ts';
import { storyText } from './why-format.ts';

/**
 * `why`'s text tells each source once: PyTorch's cold run (the fixture's trace) turned L['a']
 * dim 1 dynamic (#14), then L['b'] dim 0 (#16), then L['a']'s strides (#20, #21); the list puts
 * the latest change first, and L['a']'s header used to come twice, around L['b']'s.
 */
it("why's text: a source's story under one header, its dims in log order, though two sources' changes interleave", async () => {
  const l = await openLedger(join(tempDir(), 'w.db'));
  try {
    await ingestFile(l, join(TORCH, 'traces', 'cold-local.log'));
    const stories = explain(l, l.profileByKey('fixture:None:')!.id);
    // the list itself interleaves (the input this is about): a, b, a by position
    const order = stories.map((s) => s.source);
    assert.ok(order.indexOf("L['b']") > order.indexOf("L['a']") && order.lastIndexOf("L['a']") > order.indexOf("L['b']"), order.join(' '));
    const lines = storyText(stories);
    const heads = lines.filter((x) => !x.startsWith(' '));
    assert.equal(new Set(heads).size, heads.length, heads.join('\n'));
    // L['a']'s story: the dims as they turned dynamic, #15, #21, #22
    const at = lines.findIndex((x) => x.startsWith("L['a'] in "));
    const told = lines.slice(at + 1, lines.findIndex((x, i) => i > at && !x.startsWith(' '))).filter((x) => /^ {2}\S.*dynamic in #/.test(x));
    assert.deepEqual(told.map((x) => /dynamic in #(\d+)/.exec(x)![1]), ['15', '21', '22']);
    assert.deepEqual(told.map((x) => x.split(':')[0].trim()), ['dim 1', 'stride dim 0', 'stride dim 1']);
  } finally {
    await l.close();
  }
});
