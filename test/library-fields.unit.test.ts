import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { it } from 'node:test';
import ts from 'typescript';

/**
 * README "As a library": the library's fields are camelCase, except names PyTorch gives, kept as
 * PyTorch spells them, and an event's payload, the log's own stored JSON. This walks every type
 * the package exports (src/index.ts: functions' parameters and results, interfaces, classes) and
 * lists the snake_case fields it meets: a new one must be PyTorch's or stored, or be camelCase.
 */
const PYTORCH = ['file_hash', 'closure_hash', 'dim_changed', 'excluded_sizes', 'excluded_scalar', 'requires_grad'];
/** An event payload's stored field names (NewEvent's `payload`, EventBody): renaming them would change what the log stores. */
const STORED = ['automatic_dynamic', 'import_id', 'mark_dynamic'];

it("the library's exported types: snake_case fields are PyTorch's own or an event payload's stored ones", () => {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const index = `${root}src/index.ts`;
  const cfg = ts.getParsedCommandLineOfConfigFile(`${root}tsconfig.json`, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} })!;
  const program = ts.createProgram([index], cfg.options);
  const checker = program.getTypeChecker();
  const file = program.getSourceFile(index)!;
  const seen = new Set<ts.Type>();
  const snake = new Map<string, string>(); // field -> where first met
  const walk = (type: ts.Type, path: string, depth: number): void => {
    if (depth > 10 || seen.has(type)) return;
    seen.add(type);
    if (type.isUnionOrIntersection()) return type.types.forEach((t) => walk(t, path, depth));
    if (!(type.flags & ts.TypeFlags.Object)) return;
    for (const t of checker.getTypeArguments(type as ts.TypeReference) ?? []) walk(t, `${path}<>`, depth + 1);
    for (const s of [...type.getCallSignatures(), ...type.getConstructSignatures()]) {
      walk(s.getReturnType(), `${path}()`, depth + 1);
      for (const p of s.getParameters()) if (p.getName() !== 'sql') walk(checker.getTypeOfSymbolAtLocation(p, p.valueDeclaration ?? file), `${path}(${p.getName()})`, depth + 1);
    }
    for (const p of type.getProperties()) {
      const decl = p.valueDeclaration ?? p.declarations?.[0];
      // the project's own types (not Node's, SQLite's or zod's), less the raw SQL handle (a property or parameter `sql`), whose rows are the tables' columns
      if (!decl || !decl.getSourceFile().fileName.startsWith(`${root}src/`) || p.getName() === 'sql') continue;
      const name = p.getName();
      if (/^[a-z][a-z0-9]*(_[a-z0-9]+)+$/.test(name) && !snake.has(name)) snake.set(name, `${path}.${name}`);
      walk(checker.getTypeOfSymbolAtLocation(p, decl), `${path}.${name}`, depth + 1);
    }
  };
  for (const e of checker.getExportsOfModule(checker.getSymbolAtLocation(file)!)) {
    const s = e.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(e) : e;
    const decl = s.valueDeclaration ?? s.declarations?.[0];
    if (!decl) continue;
    if (s.flags & (ts.SymbolFlags.Interface | ts.SymbolFlags.TypeAlias | ts.SymbolFlags.Class)) walk(checker.getDeclaredTypeOfSymbol(s), e.getName(), 0);
    if (s.flags & (ts.SymbolFlags.Function | ts.SymbolFlags.Class | ts.SymbolFlags.Variable)) walk(checker.getTypeOfSymbolAtLocation(s, decl), e.getName(), 0);
  }
  // the walk reaches the fields it is to judge (PyTorch's record fields through a fold step, a code id's through a profile)
  assert.ok(snake.has('dim_changed') && snake.has('file_hash'), [...snake.keys()].join(', '));
  const ours = [...snake].filter(([name]) => !PYTORCH.includes(name) && !STORED.includes(name));
  assert.deepEqual(ours.map(([name, where]) => `${name} (${where})`), []);
});
