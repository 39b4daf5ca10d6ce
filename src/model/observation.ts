import type { CodeId } from './code-id.ts';
import { makeScalar, makeSize, makeTensor, type FrameStateSizeEntry } from './entry.ts';
import { InferStride, type StrideAtom } from './atoms.ts';
import { inferStrides } from './infer-strides.ts';
import type { PyInt } from './int.ts';

/** What Dynamo saw of one input: a raw tensor (and the dims the user marked dynamic), an int, or a size-only entry. */
export type Shape =
  | {
      kind: 'tensor';
      size: readonly PyInt[];
      stride: readonly PyInt[];
      /** The dims `torch._dynamo.mark_dynamic` marked (sorted, distinct, each below the rank; absent: none). */
      markDynamic?: readonly number[];
    }
  | { kind: 'scalar'; value: PyInt }
  | { kind: 'size'; size: readonly PyInt[] };

export interface Observation {
  code: CodeId;
  source: string;
  shape: Shape;
  /** torch._dynamo.config.automatic_dynamic_shapes (default on); off overwrites. */
  automaticDynamic: boolean;
}

/**
 * Stride inference per shape object, done once: the fold meets the same (shared, immutable)
 * shape many times. Each use gets fresh InferStride objects, shared within the tuple
 * exactly as in the template, as PyTorch makes new ones per observation.
 */
const strideTemplates = new WeakMap<Shape, readonly StrideAtom[]>();
function freshStrides(shape: Shape & { kind: 'tensor' }): StrideAtom[] {
  let t = strideTemplates.get(shape);
  if (!t) strideTemplates.set(shape, (t = inferStrides(shape.size, shape.stride)));
  const out = new Array<StrideAtom>(t.length);
  let fresh: Map<InferStride, InferStride> | undefined;
  for (let i = 0; i < t.length; i++) {
    const a = t[i];
    if (a instanceof InferStride) {
      fresh ??= new Map();
      let f = fresh.get(a);
      if (!f) fresh.set(a, (f = new InferStride(a.dim)));
      out[i] = f;
    } else out[i] = a;
  }
  return out;
}

/** The FrameStateSizeEntry Dynamo builds from a shape before recording it. */
export function entryOf(shape: Shape): FrameStateSizeEntry {
  switch (shape.kind) {
    case 'tensor':
      return makeTensor(shape.size, freshStrides(shape));
    case 'scalar':
      return makeScalar(shape.value);
    case 'size':
      return makeSize(shape.size);
  }
}
