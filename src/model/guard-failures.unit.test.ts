import assert from 'node:assert/strict';
import { it } from 'node:test';
import { guardFailures } from './guard-failures.ts';

it("guardFailures: each cache entry's reason, first line; a reason's user stack trace stays out", () => {
  assert.equal(guardFailures("1/1: tensor 'a' stride mismatch at index 1. expected 1, actual 4\n1/0: tensor 'a' stride mismatch at index 0. expected 6, actual 1"),
    "1/1: tensor 'a' stride mismatch at index 1. expected 1, actual 4; 1/0: tensor 'a' stride mismatch at index 0. expected 6, actual 1");
  assert.equal(guardFailures('0/0: n == 2  # f\nUser stack trace:\n  File "/srv/train/train.py", line 25, in f\n    return x * n'), '0/0: n == 2  # f');
  // compiled autograd's compile ids (CompileId's str: !ca, or !ca/frame/compile)
  assert.equal(guardFailures('!0/1/0: L[\'x\'] size mismatch\n  at x\n!0: other'), "!0/1/0: L['x'] size mismatch; !0: other");
  // text that names no compile id: its first line, as before
  assert.equal(guardFailures('size changed\n1 2'), 'size changed');
});
