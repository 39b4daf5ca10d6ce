import type { CodeId } from './code-id.ts';
import { InferStride } from './atoms.ts';
import type { Profile } from './profile.ts';

/** A stride entry `InferStride(dim)` whose dim the tensor does not have. */
export interface StrayInferStride {
  code: CodeId;
  source: string;
  /** The stride dim it stands at. */
  index: number;
  /** The dim it names. */
  dim: number;
  /** How many dims the tensor has (its stride tuple's length). */
  rank: number;
}

/**
 * InferStride(dim) is stride[dim] * size[dim] of the same tensor, so its dim is one of the
 * tensor's. PyTorch keeps no checksum in a profile file: a flipped byte can name dim 254 of a
 * tensor of 2, which PyTorch loads as it is (and pgo-ledger keeps, as read) but is no stride
 * PyTorch wrote. These are said, not refused.
 */
export function strayInferStrides(profile: Profile): StrayInferStride[] {
  const out: StrayInferStride[] = [];
  for (const { id, state } of profile.codes.values()) {
    for (const [source, e] of state.automaticDynamic) {
      const stride = e.stride;
      if (!Array.isArray(stride)) continue;
      stride.forEach((a, index) => {
        if (a instanceof InferStride && (a.dim < 0 || a.dim >= stride.length)) out.push({ code: id, source, index, dim: a.dim, rank: stride.length });
      });
    }
  }
  return out;
}
