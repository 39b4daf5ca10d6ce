/**
 * The few Python values a PGO pickle builds, as plain JS shapes. Tuples are JS arrays;
 * lists, dicts, globals and instances are tagged so the converter can tell them apart.
 */
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
  get qualified(): string {
    return `${this.module}.${this.name}`;
  }
}
export class PyList {
  constructor(readonly items: unknown[]) {}
}
/**
 * A dict in insertion order. Profiles hold ~25k small dicts (dataclass states of 1 to 4
 * items), so the first four items live in fields and only bigger dicts get an array.
 */
export class PyDict {
  size = 0;
  k0: unknown = undefined;
  v0: unknown = undefined;
  k1: unknown = undefined;
  v1: unknown = undefined;
  k2: unknown = undefined;
  v2: unknown = undefined;
  k3: unknown = undefined;
  v3: unknown = undefined;
  more: unknown[] | undefined = undefined;

  push(k: unknown, v: unknown): void {
    switch (this.size) {
      case 0: this.k0 = k; this.v0 = v; break;
      case 1: this.k1 = k; this.v1 = v; break;
      case 2: this.k2 = k; this.v2 = v; break;
      case 3: this.k3 = k; this.v3 = v; break;
      default: (this.more ??= []).push(k, v);
    }
    this.size++;
  }
  key(i: number): unknown {
    switch (i) {
      case 0: return this.k0;
      case 1: return this.k1;
      case 2: return this.k2;
      case 3: return this.k3;
      default: return this.more![2 * (i - 4)];
    }
  }
  value(i: number): unknown {
    switch (i) {
      case 0: return this.v0;
      case 1: return this.v1;
      case 2: return this.v2;
      case 3: return this.v3;
      default: return this.more![2 * (i - 4) + 1];
    }
  }
  /** The value for a str key; the last assignment wins, as in a Python dict. */
  get(key: string): unknown {
    for (let i = this.size - 1; i >= 0; i--) if (this.key(i) === key) return this.value(i);
    return undefined;
  }
  has(key: string): boolean {
    for (let i = 0; i < this.size; i++) if (this.key(i) === key) return true;
    return false;
  }
}
export class PyFloat {
  constructor(readonly value: number) {}
}
/** An instance of an allow-listed class, built without running any of its code. */
export class PyInstance {
  /** `__dict__` after BUILD. */
  state: PyDict | undefined;
  /** defaultdict's items and factory. */
  items: PyDict | undefined;
  factory: unknown;
  /** The model object this instance became (so shared instances stay shared). */
  converted: unknown;
  constructor(readonly cls: PyGlobal) {}
}
