/**
 * SQL that puts a ledger's schema back as it was before migration 2026-11-29T09-24-profile-spans
 * (what its down does): the tests of a migration's backfill, and of a database behind the
 * code, start from it. On PostgreSQL `events_by_profile` was on (profile_id, position).
 */
export const undoProfileSpans = (dialect: 'sqlite' | 'postgres'): string =>
  `drop table profile_spans; create index events_by_profile on events(profile_id${dialect === 'postgres' ? ', position' : ''})`;
