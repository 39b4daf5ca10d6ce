import type { Generated } from 'kysely';

/** Kysely's view of the tables (see migrations/). */
export interface ProfilesTable {
  id: Generated<number>;
  cache_key: string;
  job: string;
  rank: number | null;
  tag: string;
  event_count: number;
  last_position: number | null;
  last_time: number | null;
}
export interface OriginsTable {
  id: Generated<number>;
  origin: string;
}
export interface EventsTable {
  position: Generated<number>;
  profile_id: number;
  kind: string;
  code_id: number | null;
  source_id: number | null;
  body_id: number;
  time: number;
  run_id: number | null;
  origin_id: number | null;
  origin_line: number | null;
  compile_id: string | null;
  idempotency_key: number;
}
export interface SourcesTable {
  id: Generated<number>;
  source: string;
}
export interface RunsTable {
  id: Generated<number>;
  run: string;
}
export interface BodiesTable {
  id: Generated<number>;
  kind: string;
  version: number;
  /** JSON text, or deflated JSON as a blob. */
  payload: string | Uint8Array;
}
export interface CodesTable {
  id: Generated<number>;
  filename: string;
  firstlineno: number;
  name: string;
  file_hash: string;
  /** '' (absent: the 2.11 layout), 'None', or the decimal int (see store/code-columns.ts). */
  closure_hash: string;
  /** '' or the JSON of a newer layout's unknown fields. */
  extra: string;
}
export interface CodeStatesTable {
  profile_id: number;
  seq: number;
  filename: string;
  firstlineno: number;
  name: string;
  file_hash: string;
  closure_hash: string;
  extra: string;
  entries: string;
}
export interface HistoryTable {
  id: Generated<number>;
  position: number;
  profile_id: number;
  code_seq: number;
  code_id: number;
  source: string;
  dim_changed: string;
  reason: string;
  cached: string;
  new: string;
  guard: string | null;
}
export interface ImportsTable {
  id: Generated<number>;
  digest: string;
  format: string;
  origin: string;
  bytes: Uint8Array;
  recorded_at: number;
}
export interface MetaTable {
  key: string;
  value: string;
}
export interface LedgerSchema {
  meta: MetaTable;
  profiles: ProfilesTable;
  origins: OriginsTable;
  codes: CodesTable;
  sources: SourcesTable;
  runs: RunsTable;
  bodies: BodiesTable;
  events: EventsTable;
  code_states: CodeStatesTable;
  history: HistoryTable;
  imports: ImportsTable;
}
