import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderProfile } from '../../model/render.ts';
import { FLOAT_PICKLES } from './float-pickles.ts';
import { pickleProfile, unpickleProfile } from './index.ts';

// torch/_dynamo/variables/builder.py (v2.11.0) VariableBuilder.wrap_symfloat, reached for a float
// input when torch._dynamo.config.specialize_float is False, records
// FrameStateSizeEntry.make_scalar(value) with the float itself; render() prints f"scalar {self.scalar}"
// (str of a float is its repr) and put_code_state pickles it (BINFLOAT, FLOAT in protocol 0).
const RENDER = [
  'hash(d02731e6)/srv/train.py:12:step:',
  "  L['lr']: scalar 0.5",
  "  L['eps']: scalar 1e-05",
  "  L['a']: scalar nan",
  "  L['b']: scalar inf",
  "  L['c']: scalar -0.0",
  "  L['d']: scalar 2.0",
  "  L['big']: scalar 1e+16",
  "  L['x']: tensor size=[3] stride=[1]",
].join('\n');

describe('float scalars (specialize_float=False)', () => {
  it('a profile with float scalars reads in every protocol and renders as PyTorch renders it', () => {
    for (const [p, b64] of Object.entries(FLOAT_PICKLES)) assert.equal(renderProfile(unpickleProfile(Buffer.from(b64, 'base64'))), RENDER, `protocol ${p}`);
  });
  it('and pickles back to CPython’s bytes (protocols 2 to 5)', () => {
    for (const p of [2, 3, 4, 5] as const) {
      const b = Buffer.from(FLOAT_PICKLES[p], 'base64');
      assert.equal(Buffer.from(pickleProfile(unpickleProfile(b), p)).toString('base64'), FLOAT_PICKLES[p], `protocol ${p}`);
    }
  });
});
