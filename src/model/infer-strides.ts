import { InferStride, type StrideAtom } from './atoms.ts';
import { mulInt, type PyInt } from './int.ts';

/**
 * Dynamo's stride rewrite before it records a tensor (variables/builder.py): visit dims by
 * (stride, -index) ascending; a stride equal to an earlier dim's stride*size becomes
 * InferStride of that dim. One InferStride object per candidate, shared where reused.
 */
export function inferStrides(size: readonly PyInt[], stride: readonly PyInt[]): StrideAtom[] {
  if (size.length !== stride.length) {
    throw new RangeError(`size has ${size.length} dims but stride has ${stride.length}`);
  }
  const n = size.length;
  const order = Array.from({ length: n }, (_, i) => i);
  order.sort((a, b) => {
    const sa = stride[a], sb = stride[b];
    if (sa !== sb) return sa < sb ? -1 : 1;
    return b - a; // -index ascending: higher index first
  });
  const out = new Array<StrideAtom>(n);
  const candidates = new Map<PyInt, InferStride>();
  for (const i of order) {
    const s = stride[i];
    out[i] = candidates.get(s) ?? s;
    const key = mulInt(s, size[i]);
    if (!candidates.has(key)) candidates.set(key, new InferStride(i));
  }
  return out;
}
