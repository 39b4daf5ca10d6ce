import { codeIdLabel } from '../model/code-id.ts';
import type { DimStory } from '../store/why.ts';
import { codeJson, isoTime } from './json.ts';

export function storyJson(s: DimStory) {
  return { ...s, code: codeJson(s.code), becameDynamic: s.becameDynamic && { ...s.becameDynamic, time: isoTime(s.becameDynamic.time) } };
}

export function storyText(stories: DimStory[]): string[] {
  const lines: string[] = [];
  let lastCode = '';
  for (const s of stories) {
    const c = codeIdLabel(s.code);
    if (c !== lastCode) lines.push(`${s.source} in ${c}:`);
    lastCode = c;
    const label = s.dim === 'scalar' ? 'the int itself' : s.dim === 'rank' ? 'the number of dims' : `dim ${s.dim}`;
    if (!s.dynamic) {
      lines.push(`  ${label}: static at ${s.current}${s.values.length ? ` (${s.values.map((v) => `${v.value} seen ${v.count}x`).join(', ')})` : ''}`);
      const keep = s.advice.split('; ').find((x) => x.startsWith('TORCH_COMPILE_STATIC_SOURCES'));
      if (keep) lines.push(`    ${keep}`);
      continue;
    }
    const b = s.becameDynamic;
    if (b) {
      const where = b.origin ? `, from ${b.origin}${b.originLine !== null ? `:${b.originLine}` : ''}` : '';
      lines.push(`  ${label}: dynamic since event #${b.position} (${isoTime(b.time)}, run ${b.run ?? '-'}${b.compileId ? `, compile ${b.compileId}` : ''}${where}): it was ${b.before}, ${b.kind === 'shape.observed' ? `that observation had ${b.observed}` : 'an imported profile had it dynamic'}`);
    } else lines.push(`  ${label}: dynamic from its first sighting`);
    lines.push(`    ${s.advice}`);
  }
  return lines;
}
