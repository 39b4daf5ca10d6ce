import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { TORCH } from '../../test/support/fixtures.ts';
import { isEventTime } from '../model/event-time.ts';
import { describedRole, glogClock, traceEvents, traceReader } from './ingest-trace.ts';

/** Each fact's time as the ingest took it before times were worked out per event: a forward pass over every fact. */
function forwardTimes(r: ReturnType<typeof traceReader>, fallback: number): Map<number, number> {
  const timed = (f: { time?: number | null }): f is { time: number } => typeof f.time === 'number' && isEventTime(f.time);
  const facts = r.facts as unknown as ({ line: number } & { time?: number | null })[];
  let last = (facts.find(timed) as { time: number } | undefined)?.time ?? fallback;
  const lineTime = glogClock(r.clock, facts.filter(timed) as { line: number; time: number }[], last);
  const byLine = new Map<number, number>();
  for (const f of facts) {
    last = lineTime(f.line) ?? (timed(f) ? f.time : last);
    byLine.set(f.line, last);
  }
  return byLine;
}

function read(text: string) {
  const r = traceReader();
  text.split('\n').forEach((l, i) => r.push(l, i + 1));
  r.end();
  return r;
}

describe('trace ingest: event times', () => {
  const dir = join(TORCH, 'traces');
  const texts: [string, string][] = readdirSync(dir).map((f) => [f, readFileSync(join(dir, f), 'utf8')]);
  // Hostile: glog lines whose clock is no date (month 13, day 00), and chromium times past 9999.
  const [, first] = texts[0];
  texts.push(['odd-clock', first.replace(/^I(\d\d)(\d\d) /gm, (_m, mm, dd) => `I${mm === '11' ? '13' : mm}${dd === '26' ? '00' : dd} `)]);
  texts.push(['huge-ts', first.replace(/"ts": ?\d+/g, '"ts": 1e300')]);
  for (const [name, text] of texts) {
    it(`${name}: each event's time is the one a pass over every fact gives`, () => {
      const r = read(text);
      const t = traceEvents(r, name, { defaults: { job: 'j' } });
      assert.ok(t.settled, t.settled ? '' : t.why);
      assert.ok(t.events.length > 0);
      const want = forwardTimes(r, 0);
      for (const e of t.events) assert.equal(e.time, want.get(e.originLine!), `${e.kind} at line ${e.originLine}`);
    });
  }
});

describe('trace ingest: described roles', () => {
  it('parameters and buffers are told by their source text as the regexes told them', () => {
    for (const s of ["L['self']._parameters['w']", "L['self']._buffers['b']", "L['self'].running_mean", "L['self']._parameters", "L['x']._buffers[0]", 'a._parametersX[', '']) {
      const want = /\._parameters\[/.test(s) ? 'parameter' : /\._buffers\[/.test(s) ? 'buffer' : 'input';
      assert.equal(describedRole(s, false), want, s);
      assert.equal(describedRole(s, true), 'parameter');
    }
  });
});
