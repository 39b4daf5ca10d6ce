/**
 * The few Python values a PGO pickle builds, as plain JS shapes. Tuples are JS arrays;
 * lists, dicts and instances are object literals tagged by `$`, globals and floats classes.
 * Literals, not classes: V8 allocates the objects of a literal whose objects outlive young
 * collections (all of these do: the memo keeps them) straight in the old generation, which
 * saves copying each one twice; `new` of a class gets no such site.
 */
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
    /** One of the pgo dataclasses (NEWOBJ may build it): decided once, at the allow-list. */
    readonly dataclass = false,
  ) {}
  get qualified(): string {
    return `${this.module}.${this.name}`;
  }
}
const T_LIST = 1;
const T_DICT = 2;
const T_INSTANCE = 3;

export interface PyList {
  readonly $: typeof T_LIST;
  readonly items: unknown[];
}
export function newList(items: unknown[]): PyList {
  return { $: T_LIST, items };
}
export function isList(v: unknown): v is PyList {
  return typeof v === 'object' && v !== null && (v as { $?: unknown }).$ === T_LIST;
}

/**
 * A dict in insertion order. Profiles hold ~25k small dicts (dataclass states of 1 to 4
 * items), so the first four items live in fields and only bigger dicts get an array.
 */
export interface PyDict {
  readonly $: typeof T_DICT;
  size: number;
  k0: unknown;
  v0: unknown;
  k1: unknown;
  v1: unknown;
  k2: unknown;
  v2: unknown;
  k3: unknown;
  v3: unknown;
  more: unknown[] | undefined;
  /**
   * The instance this dict is the state of (BUILD adopts the dict rather than copying it,
   * as CPython does, while nothing else changes it; see adoptState).
   */
  owner: PyInstance | undefined;
}
export function newDict(): PyDict {
  return { $: T_DICT, size: 0, k0: undefined, v0: undefined, k1: undefined, v1: undefined, k2: undefined, v2: undefined, k3: undefined, v3: undefined, more: undefined, owner: undefined };
}
function copyDict(d: PyDict): PyDict {
  const c = newDict();
  for (let i = 0; i < d.size; i++) dictPush(c, dictKey(d, i), dictValue(d, i));
  return c;
}
/**
 * BUILD with a dict state. CPython copies the state's items into the instance's __dict__;
 * here the instance adopts the dict itself (no copy for the ~25k states of a profile), and
 * a copy is made only where the two could differ: the dict already adopted by another
 * instance, the dict changed later (beforeDictChange), or the instance built again.
 */
export function adoptState(obj: PyInstance, state: PyDict): void {
  let own = obj.state;
  if (!own) {
    if (state.owner) obj.state = copyDict(state);
    else {
      obj.state = state;
      state.owner = obj;
    }
    return;
  }
  if (own.owner === obj) {
    own.owner = undefined; // the adopted dict is the pickle's again; the instance gets its own copy
    own = obj.state = copyDict(own);
  }
  for (let i = 0; i < state.size; i++) dictPush(own, dictKey(state, i), dictValue(state, i));
}
/** Before a SETITEM(S) on d: the instance that adopted d keeps the items it had. */
export function beforeDictChange(d: PyDict): void {
  const obj = d.owner;
  if (obj) {
    obj.state = copyDict(d);
    d.owner = undefined;
  }
}
export function isDict(v: unknown): v is PyDict {
  return typeof v === 'object' && v !== null && (v as { $?: unknown }).$ === T_DICT;
}
export function dictPush(d: PyDict, k: unknown, v: unknown): void {
  switch (d.size) {
    case 0: d.k0 = k; d.v0 = v; break;
    case 1: d.k1 = k; d.v1 = v; break;
    case 2: d.k2 = k; d.v2 = v; break;
    case 3: d.k3 = k; d.v3 = v; break;
    default: (d.more ??= []).push(k, v);
  }
  d.size++;
}
export function dictKey(d: PyDict, i: number): unknown {
  switch (i) {
    case 0: return d.k0;
    case 1: return d.k1;
    case 2: return d.k2;
    case 3: return d.k3;
    default: return d.more![2 * (i - 4)];
  }
}
export function dictValue(d: PyDict, i: number): unknown {
  switch (i) {
    case 0: return d.v0;
    case 1: return d.v1;
    case 2: return d.v2;
    case 3: return d.v3;
    default: return d.more![2 * (i - 4) + 1];
  }
}
/** The value for a str key; the last assignment wins, as in a Python dict. */
export function dictGet(d: PyDict, key: string): unknown {
  for (let i = d.size - 1; i >= 0; i--) if (dictKey(d, i) === key) return dictValue(d, i);
  return undefined;
}
export function dictHas(d: PyDict, key: string): boolean {
  for (let i = 0; i < d.size; i++) if (dictKey(d, i) === key) return true;
  return false;
}

/** A float is the model's own (a profile's scalar may be one). */
export { PyFloat } from '../../model/float.ts';

/** An instance of an allow-listed class, built without running any of its code. */
export interface PyInstance {
  readonly $: typeof T_INSTANCE;
  readonly cls: PyGlobal;
  /** `__dict__` after BUILD. */
  state: PyDict | undefined;
  /** defaultdict's items and factory (a defaultdict's own shape; dataclasses have none). */
  readonly items?: PyDict;
  readonly factory?: unknown;
  /** The model object this instance became (so shared instances stay shared). */
  converted: unknown;
}
/** A dataclass instance: four fields, the most numerous object of a profile after tuples. */
export function newInstance(cls: PyGlobal): PyInstance {
  return { $: T_INSTANCE, cls, state: undefined, converted: undefined };
}
export function newDefaultDict(cls: PyGlobal, factory: unknown): PyInstance {
  return { $: T_INSTANCE, cls, state: undefined, items: newDict(), factory, converted: undefined };
}
export function isInstance(v: unknown): v is PyInstance {
  return typeof v === 'object' && v !== null && (v as { $?: unknown }).$ === T_INSTANCE;
}
