/**
 * A 53-bit string hash (cyrb53) for idempotency keys: an integer key keeps the unique index
 * small and fast. A collision is told apart from a true duplicate by comparing the stored
 * event, and then rehashed with another seed, so it never drops an event.
 */
export function hash53(str: string, seed = 0): number {
  return hash53From(0xdeadbeef ^ seed, 0x41c6ce57 ^ seed, str);
}

/** hash53's state (seed 0) after the characters that many keys start with (hash53Prefix). */
export interface Hash53Prefix {
  readonly h1: number;
  readonly h2: number;
}

/**
 * The state after `prefix`, for hash53After. A trace's keys share their start
 * (`trace\0key\0run\0`, about two thirds of each), and the loop over a key's characters runs
 * cold there, a few events a trace: hashing the start once a trace, not once an event, is
 * most of the hashing saved.
 */
export function hash53Prefix(prefix: string): Hash53Prefix {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < prefix.length; i++) {
    const ch = prefix.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  return { h1, h2 };
}

/** hash53(prefix + rest), from hash53Prefix(prefix). */
export function hash53After(prefix: Hash53Prefix, rest: string): number {
  return hash53From(prefix.h1, prefix.h2, rest);
}

/** The characters of `str` mixed into the state (h1, h2), and the state finished into 53 bits. */
function hash53From(h1: number, h2: number, str: string): number {
  for (let i = 0; i < str.length; i++) {
    const ch = str.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}
