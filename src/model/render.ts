import { DYNAMIC, InferStride, UNSET, type Atom } from './atoms.ts';
import { codeIdText } from './code-id.ts';
import type { FrameStateSizeEntry } from './entry.ts';
import { numberRepr } from './float.ts';
import { layoutOf, type CodeState, type Profile, type TorchLayout } from './profile.ts';
import { atomStr, entryRepr } from './python-repr.ts';

function renderSingle(s: Atom): string {
  if (s === DYNAMIC) return '?';
  if (s === UNSET) return 'auto unset';
  if (s instanceof InferStride) return `S(${s.dim})`;
  return numberRepr(s);
}

function renderTuple(ss: readonly Atom[]): string {
  return '[' + ss.map(renderSingle).join(', ') + ']';
}

/** `FrameStateSizeEntry.render()` (its `unusual …` fallback is the layout's repr). */
export function renderEntry(e: FrameStateSizeEntry, layout: TorchLayout = '2.11'): string {
  if (e.size === DYNAMIC && e.stride === DYNAMIC) {
    return e.scalar === DYNAMIC ? 'fully dynamic scalar or tensor' : `scalar ${atomStr(e.scalar)}`;
  }
  if (e.scalar === DYNAMIC && Array.isArray(e.size) && Array.isArray(e.stride)) {
    return `tensor size=${renderTuple(e.size)} stride=${renderTuple(e.stride)}`;
  }
  return `unusual ${entryRepr(e, layout)}`;
}

/** `_collect_dynamic_sources`: a tuple size with a dynamic dim, or else a dynamic scalar. */
export function dynamicSourcesOf(state: CodeState): string[] {
  const out: string[] = [];
  for (const [src, fs] of state.automaticDynamic) {
    const dynamic = Array.isArray(fs.size) ? fs.size.includes(DYNAMIC) : fs.scalar === DYNAMIC;
    if (dynamic) out.push(src);
  }
  return out;
}

/** All dynamic sources of a profile, first-seen order, each once (an OrderedSet). */
export function dynamicSources(profile: Profile): string[] {
  const seen = new Set<string>();
  for (const { state } of profile.codes.values()) for (const s of dynamicSourcesOf(state)) seen.add(s);
  return [...seen];
}

/**
 * `render_code_state()`, byte for byte, the TORCH_COMPILE_DYNAMIC_SOURCES advice included, as
 * the profile's layout renders (closures of one function print alike, as upstream).
 */
export function renderProfile(profile: Profile): string {
  const parts: string[] = [];
  // asked once: where the profile names no layout, layoutOf looks through every code id (asked
  // for each entry, a 50k-code profile's show took 52 s)
  const layout = layoutOf(profile);
  for (const { id, state } of profile.codes.values()) {
    const lines: string[] = [];
    for (const [src, fs] of state.automaticDynamic) lines.push(`  ${src}: ${renderEntry(fs, layout)}`);
    parts.push(`${codeIdText(id)}:\n` + lines.join('\n'));
  }
  let text = parts.join('\n');
  const dyn = dynamicSources(profile);
  if (dyn.length > 0) {
    text +=
      '\n\nPGO detected a recompilation due to dynamic shapes. ' +
      'To reduce shape recompilations by compiling dynamically to start, ' +
      `set environment variable TORCH_COMPILE_DYNAMIC_SOURCES="${dyn.join(',')}"`;
  }
  return text;
}
