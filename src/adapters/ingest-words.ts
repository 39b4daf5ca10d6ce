/**
 * The names a message gives the ways to say which profile an input is for (LineDefaults.words):
 * the library's fields (`defaults.job`, `key`) unless the caller gives its own, as the command
 * line gives its flags (`--job`, `--key`). A module of its own: the trace and pickle readers
 * ask it without loading the observation lines' reader.
 */
export interface IngestWords {
  job: string;
  rank: string;
  tag: string;
  key: string;
}

const INGEST_FIELDS: IngestWords = { job: 'defaults.job', rank: 'defaults.rank', tag: 'defaults.tag', key: 'key' };

export const ingestWords = (d: { words?: IngestWords }): IngestWords => d.words ?? INGEST_FIELDS;
