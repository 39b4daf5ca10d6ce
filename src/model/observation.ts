import type { CodeId } from './code-id.ts';
import { makeScalar, makeSize, makeTensor, type FrameStateSizeEntry } from './entry.ts';
import { inferStrides } from './infer-strides.ts';
import type { PyInt } from './int.ts';

/** What Dynamo saw of one input: a raw tensor, an int, or a size-only (mark_dynamic) entry. */
export type Shape =
  | { kind: 'tensor'; size: readonly PyInt[]; stride: readonly PyInt[] }
  | { kind: 'scalar'; value: PyInt }
  | { kind: 'size'; size: readonly PyInt[] };

export interface Observation {
  code: CodeId;
  source: string;
  shape: Shape;
  /** torch._dynamo.config.automatic_dynamic_shapes (default on); off overwrites. */
  automaticDynamic: boolean;
}

/** The FrameStateSizeEntry Dynamo builds from a shape before recording it. */
export function entryOf(shape: Shape): FrameStateSizeEntry {
  switch (shape.kind) {
    case 'tensor':
      return makeTensor(shape.size, inferStrides(shape.size, shape.stride));
    case 'scalar':
      return makeScalar(shape.value);
    case 'size':
      return makeSize(shape.size);
  }
}
