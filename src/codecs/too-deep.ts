/**
 * A value a message quotes may be a list nested thousands deep, which JSON.stringify cannot
 * write (a stack overflow: exit 70, no line named, trial s36a): past this depth it is said, not
 * quoted. One rule for the trace's fields and the observation lines'.
 */
const QUOTED_DEPTH = 20;

/** How such a list is said in place of its JSON. */
export const TOO_DEEP = `a list nested more than ${QUOTED_DEPTH} deep`;

/** Whether `v` is a list nested deeper than a message quotes (its first items followed down). */
export function tooDeep(v: unknown): boolean {
  let depth = 0;
  for (let x = v; Array.isArray(x) && depth <= QUOTED_DEPTH; x = x[0]) depth++;
  return depth > QUOTED_DEPTH;
}
