// Second reference for observation ingest: read the same lines and JSON.parse each.
// Usage: node read-parse.mjs LINES.jsonl
import { forEachLines } from './lines.mjs';

let n = 0;
let keys = 0;
forEachLines(process.argv[2], (lines) => {
  for (const l of lines) {
    if (l === '') continue;
    const o = JSON.parse(l);
    keys += o.source.length; // use the result so the parse is not dead code
    n++;
  }
});
console.log(JSON.stringify({ lines: n, keys }));
