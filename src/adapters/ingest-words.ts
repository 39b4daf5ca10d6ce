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
  run: string;
}

const INGEST_FIELDS: IngestWords = { job: 'defaults.job', rank: 'defaults.rank', tag: 'defaults.tag', key: 'key', run: 'defaults.run' };

/**
 * What `watch` (the library's) says instead: it takes no defaults or key of its own, so the
 * advice names what ingestFile takes (trial 19.2: watch said "give --job", a flag it lacks).
 */
export const WATCH_FIELDS: IngestWords = { job: 'defaults.job of ingestFile', rank: 'defaults.rank', tag: 'defaults.tag', key: 'key of ingestFile', run: 'defaults.run' };

export const ingestWords = (d: { words?: IngestWords }): IngestWords => d.words ?? INGEST_FIELDS;
