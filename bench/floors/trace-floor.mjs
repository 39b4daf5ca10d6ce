// Floor for TORCH_TRACE ingest: read every file of a folder, split it into lines, JSON.parse
// each glog line's metadata and each payload that is JSON (payload lines start with a tab).
// Usage: node trace-floor.mjs DIR
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { forEachLines } from './lines.mjs';

const dir = process.argv[2];
let entries = 0;
let payloads = 0;
for (const f of readdirSync(dir).sort()) {
  let payload = [];
  const flush = () => {
    if (!payload.length) return;
    const text = payload.join('\n');
    payload = [];
    const c = text.charCodeAt(0);
    if (c === 123 || c === 91) {
      try {
        JSON.parse(text);
        payloads++;
      } catch {
        // not JSON after all (e.g. a Python repr); the ingest skips those too
      }
    }
  };
  forEachLines(join(dir, f), (lines) => {
    for (const l of lines) {
      if (l.charCodeAt(0) === 9) {
        payload.push(l.slice(1));
        continue;
      }
      flush();
      const i = l.indexOf('] ');
      if (i < 0) continue;
      JSON.parse(l.slice(i + 2));
      entries++;
    }
  });
  flush();
}
console.log(JSON.stringify({ entries, payloads }));
