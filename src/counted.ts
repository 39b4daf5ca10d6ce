/**
 * A count and its noun, singular for 1 ("1 profile", "2 profiles", "0 profiles"): every
 * message that counts says it this one way. `many`: where the plural is not the noun and an s.
 */
export function counted(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
