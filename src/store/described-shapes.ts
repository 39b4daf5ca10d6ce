import type { ShapeDescribed } from './events.ts';
import type { Ledger } from './ledger.ts';
import { describedEvents, type DescribedEvent } from './described-events.ts';
import type { Window } from './window.ts';

/** One input a compile saw, as a trace described it (a shape.described event). */
export interface DescribedShape extends Omit<DescribedEvent, 'stored'> {
  size: ShapeDescribed['size'];
  stride: ShapeDescribed['stride'];
  dtype: string | null;
  device: string | null;
  role: ShapeDescribed['role'];
  /** describe_tensor's requires_grad (false where the trace did not say it, as PyTorch writes it only when true). */
  requiresGrad: boolean;
}

/** The inputs each compile of a profile saw, in log order, over a window (`--as-of`, `--exclude-run`, retractions). */
export function describedShapes(ledger: Ledger, profileId: number, window: Window = {}): DescribedShape[] {
  return describedEvents(ledger, profileId, window, 'shape.described').map(({ stored, ...e }) => {
    const b = stored as Omit<ShapeDescribed, 'code' | 'source'>;
    return { ...e, size: b.size, stride: b.stride, dtype: b.dtype, device: b.device, role: b.role, requiresGrad: b.requires_grad === true };
  });
}

const dims = (d: ShapeDescribed['size']) => `[${d.map((x) => (x === null ? '?' : String(x))).join(', ')}]`;

/**
 * What the compiles saw of one source, as a sentence: "compile 0/0 saw L['x'] [2, 3]; 0/1 saw
 * [4, 3]" (the source is named once; rows of other sources name theirs).
 */
export function sawSentence(rows: readonly Pick<DescribedShape, 'compileId' | 'source' | 'size'>[]): string {
  let last: string | null = null;
  return rows
    .map((r, i) => {
      const named = r.source === last ? '' : `${r.source} `;
      last = r.source;
      return `${i === 0 ? 'compile ' : ''}${r.compileId ?? '?'} saw ${named}${dims(r.size)}`;
    })
    .join('; ');
}
