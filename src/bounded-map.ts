/**
 * A memo that holds up to `limit` (of the sizes its entries are set with) in all, then starts
 * over: cleared whole, as what a reader met last is what it meets next, and a `watch` that runs
 * for weeks must not grow without end.
 */
export function boundedMap<V>(limit: number): { get(key: string): V | undefined; set(key: string, v: V, size: number): void } {
  const map = new Map<string, V>();
  let held = 0;
  return {
    get: (key) => map.get(key),
    set(key, v, size) {
      if (held + size > limit) {
        map.clear();
        held = 0;
      }
      map.set(key, v);
      held += size;
    },
  };
}
