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
export class PyDict {
  readonly map = new Map<unknown, unknown>();
}
export class PyFloat {
  constructor(readonly value: number) {}
}
/** An instance of an allow-listed class, built without running any of its code. */
export class PyInstance {
  /** `__dict__` after BUILD. */
  state: PyDict | undefined;
  /** defaultdict's items and factory. */
  items: Map<unknown, unknown> | undefined;
  factory: unknown;
  constructor(readonly cls: PyGlobal) {}
}
