// Floor for observation ingest: the same lines, as text, into a one-column better-sqlite3
// table, one transaction per 10,000 lines, with the ledger's pragmas (WAL, synchronous=NORMAL).
// Usage: node raw-insert.mjs LINES.jsonl OUT.db
import Database from 'better-sqlite3';
import { forEachLines } from './lines.mjs';

const [file, dbPath] = process.argv.slice(2);
const db = new Database(dbPath);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.exec('create table raw(line text)');
const ins = db.prepare('insert into raw(line) values (?)');
const tx = db.transaction((lines) => {
  for (const l of lines) ins.run(l);
});
let batch = [];
let n = 0;
forEachLines(file, (lines) => {
  for (const l of lines) {
    if (l === '') continue;
    batch.push(l);
    if (batch.length === 10000) {
      tx(batch);
      n += batch.length;
      batch = [];
    }
  }
});
tx(batch);
n += batch.length;
db.close();
console.log(JSON.stringify({ lines: n }));
