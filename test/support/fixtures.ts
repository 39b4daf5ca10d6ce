import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project's own copy of the test data (see test/fixtures/README.md). */
export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
export const TORCH = join(FIXTURES, 'torch-2.11');

export function fixture(rel: string): Buffer {
  return readFileSync(join(FIXTURES, rel));
}
export function fixtureText(rel: string): string {
  return readFileSync(join(FIXTURES, rel), 'utf8');
}

export interface OracleCase {
  id: number;
  automatic_dynamic_shapes: boolean;
  codes: { filename: string; firstlineno: number; name: string; file_hash: string }[];
  observations: ({ code: number; source: string } & ({ kind: 'tensor'; size: number[]; stride: number[] } | { kind: 'scalar'; value: number } | { kind: 'size'; size: number[] }))[];
  expected: {
    steps: { after: unknown; logged: Record<string, unknown>[] }[];
    state: { code: number; entries: Record<string, unknown> }[];
    render: string;
    pickle_p4: string;
    pickle_by_protocol?: Record<string, string>;
  };
}

let cases: OracleCase[] | undefined;
export function oracleCases(): OracleCase[] {
  cases ??= JSON.parse(fixtureText('oracle/merge-cases.dev.json')) as OracleCase[];
  return cases;
}

/** A case of the layout after 2.11 (oracle/next): closure_hash on codes, excluded_* on entries. */
export interface NextOracleCase extends Omit<OracleCase, 'codes'> {
  codes: { filename: string; firstlineno: number; name: string; file_hash: string; closure_hash: number | bigint | null }[];
}

let nextCases: NextOracleCase[] | undefined;
/**
 * oracle/next/merge-cases.json. Python wrote closure hashes past 2**53 as bare JSON ints,
 * which JSON.parse would round: they are read as strings first, then made bigints.
 */
export function nextOracleCases(): NextOracleCase[] {
  if (!nextCases) {
    const text = fixtureText('oracle/next/merge-cases.json').replace(/("closure_hash": *)(-?\d{16,})/g, '$1"$2"');
    nextCases = JSON.parse(text) as NextOracleCase[];
    for (const c of nextCases) {
      for (const code of c.codes) {
        const h = code.closure_hash as unknown;
        if (typeof h === 'string') code.closure_hash = Number.isSafeInteger(Number(h)) ? Number(h) : BigInt(h);
      }
    }
  }
  return nextCases;
}
