import { DYNAMIC } from './atoms.ts';
import type { Profile } from './profile.ts';

/**
 * The environment switches of `torch/compiler/config.py` that pgo-ledger advises in, with the
 * PyTorch versions that read them (checked against upstream's config.py and the PRs that
 * added them; "after 2.11" means nightlies and releases cut after the PR landed):
 *   TORCH_COMPILE_DYNAMIC_SOURCES: 2.7 and later (#147979, 2025-02).
 *   TORCH_COMPILE_UNBACKED_SOURCES: 2.9 and later (in the docs since 2025-09).
 *   per-dim `source:N` entries in both: after 2.11 (#184120, 2026-05); older versions take
 *     `L['x']:0` as a source name that never matches.
 *   TORCH_COMPILE_STATIC_SOURCES: after 2.11 (#193626, 2026-08).
 */
export const SWITCH_VERSIONS = {
  TORCH_COMPILE_DYNAMIC_SOURCES: 'PyTorch 2.7+',
  TORCH_COMPILE_UNBACKED_SOURCES: 'PyTorch 2.9+',
  perDim: 'PyTorch after 2.11 (#184120)',
  TORCH_COMPILE_STATIC_SOURCES: 'PyTorch after 2.11 (#193626)',
} as const;

export type SwitchName = 'TORCH_COMPILE_DYNAMIC_SOURCES' | 'TORCH_COMPILE_STATIC_SOURCES' | 'TORCH_COMPILE_UNBACKED_SOURCES';

export interface SwitchAdvice {
  switch: SwitchName;
  /** The value to set (comma-separated entries). */
  value: string;
  /** Which PyTorch versions read it in this form. */
  versions: string;
  why: string;
}

/** `name="value"`, as a shell would take it. */
export function switchText(a: SwitchAdvice): string {
  return `${a.switch}=${shellQuoted(a.value)} (${a.versions}): ${a.why}`;
}

/** What the observations of one source showed, for the switches that need more than the profile. */
export interface SourceFacts {
  source: string;
  /** Seen in more than one observation (or run) and never changed. */
  staticAcrossRuns?: boolean;
  /**
   * Dims (or 'scalar') that took 0 or 1 in some observation while they varied. Only size dims
   * count for advice: Dynamo makes a dynamic int with create_unspecified_symbol, which does not
   * specialize 0 and 1 (do_not_specialize_zero_one=True), so an int needs no unbacked switch.
   */
  zeroOneDims?: (number | 'scalar')[];
}

/**
 * Advice in the switches users have now, next to upstream's TORCH_COMPILE_DYNAMIC_SOURCES
 * line: per-dim entries where only some dims of a tensor are dynamic, STATIC_SOURCES for
 * sources that stayed static, UNBACKED_SOURCES where a dim took 0 or 1 (PyTorch specializes
 * those, so marking them dynamic alone does not stop the recompiles).
 */
export function switchAdvice(profile: Profile, facts: readonly SourceFacts[] = []): SwitchAdvice[] {
  const out: SwitchAdvice[] = [];
  const whole: string[] = [];
  const perDim: string[] = [];
  let partial = false;
  const seen = new Set<string>();
  for (const { state } of profile.codes.values()) {
    for (const [src, e] of state.automaticDynamic) {
      if (Array.isArray(e.size) && e.size.includes(DYNAMIC)) {
        const dims = e.size.flatMap((a, i) => (a === DYNAMIC ? [i] : []));
        if (dims.length < e.size.length) partial = true;
        for (const d of dims) if (!seen.has(`${src}:${d}`)) (seen.add(`${src}:${d}`), perDim.push(`${src}:${d}`));
        if (!seen.has(src)) (seen.add(src), whole.push(src));
      } else if (!Array.isArray(e.size) && e.scalar === DYNAMIC && e.size === DYNAMIC) {
        if (!seen.has(src)) (seen.add(src), whole.push(src), perDim.push(src));
      }
    }
  }
  if (whole.length) out.push({ switch: 'TORCH_COMPILE_DYNAMIC_SOURCES', value: whole.join(','), versions: SWITCH_VERSIONS.TORCH_COMPILE_DYNAMIC_SOURCES, why: 'every dim of these sources starts dynamic' });
  if (partial) {
    // the switch names sources, not frames: a dim listed starts dynamic wherever its source is,
    // static as it is in another code id (trial s36a: f's L['x'] dim 1, static at 3, said to stay static)
    const listed = new Set(perDim);
    const reach: string[] = [];
    for (const { id, state } of profile.codes.values()) {
      for (const [src, e] of state.automaticDynamic) {
        if (!Array.isArray(e.size)) continue;
        e.size.forEach((a, i) => {
          if (a !== DYNAMIC && listed.has(`${src}:${i}`)) reach.push(`${src} dim ${i} of ${id.name} (${id.filename}:${id.firstlineno})`);
        });
      }
    }
    const also = reach.length ? `, and a dim listed starts dynamic in every frame with its source: also ${reach.slice(0, 5).join(', ')}${reach.length > 5 ? `, and ${reach.length - 5} more` : ''}, static there` : '';
    out.push({ switch: 'TORCH_COMPILE_DYNAMIC_SOURCES', value: perDim.join(','), versions: SWITCH_VERSIONS.perDim, why: `only the dims that changed start dynamic; the others stay static${also}` });
  }
  const stat = facts.filter((f) => f.staticAcrossRuns).map((f) => f.source);
  if (stat.length) out.push({ switch: 'TORCH_COMPILE_STATIC_SOURCES', value: [...new Set(stat)].join(','), versions: SWITCH_VERSIONS.TORCH_COMPILE_STATIC_SOURCES, why: 'these stayed static across runs; kept static even where a profile says dynamic' });
  const zo = facts.flatMap((f) => (f.zeroOneDims ?? []).flatMap((d) => (d === 'scalar' ? [] : [`${f.source}:${d}`])));
  if (zo.length) {
    out.push({
      switch: 'TORCH_COMPILE_UNBACKED_SOURCES',
      value: [...new Set(zo)].join(','),
      versions: `${SWITCH_VERSIONS.TORCH_COMPILE_UNBACKED_SOURCES}, per-dim entries ${SWITCH_VERSIONS.perDim}`,
      why: 'these took 0 or 1, which PyTorch specializes; unbacked, they compile once for all sizes',
    });
  }
  return out;
}

/**
 * The runs that fed a dim's values seen, each once, in the values' order: one value's own
 * list as it is (a value's runs are distinct already; most static dims have one value, and
 * `why` tells ~1,000 of them with every run of the log).
 */
export function runsOfValues(values: readonly { runs: readonly (string | null)[] }[]): readonly (string | null)[] {
  return values.length === 1 ? values[0].runs : [...new Set(values.flatMap((v) => v.runs))];
}

/** How many runs by name fed a dim's values (sightings with no run, null, are no run). */
export function namedRunCount(values: readonly { runs: readonly (string | null)[] }[]): number {
  return runsOfValues(values).filter((r) => r !== null).length;
}

/**
 * `why`'s hint in the switches for one dim of one source: how to start it dynamic (per dim
 * where the switch reads that), unbacked where it took 0 or 1, or kept static where it
 * stayed static over several runs. Empty when none applies.
 */
export function dimSwitchHint(source: string, dim: number | 'scalar' | 'rank', dynamic: boolean, values: readonly { value: string; runs: readonly (string | null)[] }[]): string {
  if (dim === 'rank') return '';
  const entry = dim === 'scalar' ? source : `${source}:${dim}`;
  const hints: string[] = [];
  if (dynamic) {
    hints.push(
      dim === 'scalar'
        ? `TORCH_COMPILE_DYNAMIC_SOURCES="${source}" (${SWITCH_VERSIONS.TORCH_COMPILE_DYNAMIC_SOURCES}) starts it dynamic`
        : `TORCH_COMPILE_DYNAMIC_SOURCES="${entry}" (${SWITCH_VERSIONS.perDim}; "${source}", every dim, ${SWITCH_VERSIONS.TORCH_COMPILE_DYNAMIC_SOURCES}) starts it dynamic`,
    );
    // An int read from a global is specialized whatever the profile says (builder.py's
    // is_int_specialization_case: `not source.guard_source().is_local()`); the allowlist is
    // read before it (wrap_literal), so only the switch makes it dynamic.
    if (dim === 'scalar' && source.startsWith('G[')) {
      hints.push('the profile alone does not: Dynamo specializes an int read from a global whatever the profile says, so a warm start still compiles once per value');
    }
    // sizes only: an int's 0 and 1 are not specialized (see SourceFacts.zeroOneDims)
    if (dim !== 'scalar' && values.some((v) => v.value === '0' || v.value === '1')) {
      hints.push(
        `it took ${values.filter((v) => v.value === '0' || v.value === '1').map((v) => v.value).join(' and ')}, which PyTorch specializes: TORCH_COMPILE_UNBACKED_SOURCES="${entry}" (${SWITCH_VERSIONS.TORCH_COMPILE_UNBACKED_SOURCES}, per dim ${SWITCH_VERSIONS.perDim}) compiles once for all sizes`,
      );
    }
  } else if (values.length === 1 && namedRunCount(values) >= 2) {
    // one value over several runs: pinned static, it compiles once as it does now; a dim that
    // took several (an overwrite keeps the last) would compile once per value (trial s36b)
    hints.push(`TORCH_COMPILE_STATIC_SOURCES="${dim === 'scalar' ? source : entry}" (${SWITCH_VERSIONS.TORCH_COMPILE_STATIC_SOURCES}) keeps it static even where a profile says dynamic`);
  }
  return hints.join('; ');
}

/** A value as a POSIX shell reads it back whole inside double quotes (a source may hold `"`, `$` or a backslash). */
export function shellQuoted(v: string): string {
  return `"${v.replace(/["\\$`]/g, (c) => `\\${c}`)}"`;
}
