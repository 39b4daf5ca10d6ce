import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { coalesce, inlined, type Call } from './pg-worker.ts';

describe('PostgreSQL bridge: posted statements in one query', () => {
  it("a pipelined batch's held-back posts (postgres.ts holds its COPY behind those that name no events): one query of its BEGIN, locks, check, counters and COPY, then its commit", () => {
    const copy: Call = ['copyAt', 1, 'copy events from stdin', 5, { numbers: { width: 1, values: new Float64Array(), nulls: new Uint8Array() }, kinds: [], kindOf: new Uint16Array(), compileIds: null }];
    const calls: Call[] = [
      ['postExec', 1, 'begin'],
      ['post', 1, 'select pg_advisory_xact_lock_shared(?::bigint)', [7], 0],
      ['post', 1, 'select pg_advisory_xact_lock(?::int4, id) from unnest(?::int4[]) as u(id)', [8, [1, 2, 3]], 0],
      ['postExec', 1, "do $$ begin raise exception 'x; y'; end $$"],
      ['post', 1, 'update profiles set event_count = event_count + ?, last_position = ? where id = ?', [10, 1795600000000.5, 1], 11],
      ['post', 1, 'update profiles set job = ? where id = ?', ["it's?", null], 12],
      copy,
      ['postExec', 1, 'commit', 13],
    ];
    const texts = [
      'begin',
      "select pg_advisory_xact_lock_shared('7'::bigint)",
      "select pg_advisory_xact_lock('8'::int4, id) from unnest('{1,2,3}'::int4[]) as u(id)",
      "do $$ begin raise exception 'x; y'; end $$",
      "update profiles set event_count = event_count + '10', last_position = '1795600000000.5' where id = '1'",
      "update profiles set job = 'it''s?' where id = null",
    ];
    assert.deepEqual(coalesce(calls), [[...copy, [texts, [0, 0, 0, 0, 11, 12]]], calls[7]]);
    // posts after a COPY (a commit waited for between): a query of their own
    assert.deepEqual(coalesce([...calls.slice(0, 4), copy, ...calls.slice(4, 6), calls[7]]), [
      [...copy, [texts.slice(0, 4), [0, 0, 0, 0]]],
      ['postMany', 1, texts.slice(4), [11, 12], false],
      calls[7],
    ]);
    // a COPY after a statement that cannot go as text, or of another connection, is a query of its own
    const bytes: Call = ['post', 1, 'insert into bodies(payload) values (?)', [new Uint8Array([1])], 0];
    assert.deepEqual(coalesce([calls[0], bytes, copy]), [calls[0], bytes, copy]);
    assert.deepEqual(coalesce([['postExec', 2, 'begin'], copy]), [['postExec', 2, 'begin'], copy]);
  });

  it('a statement whose parameters cannot be written into it, of another connection, a commit waited for, a read asked for or a BEGIN ends a run; a run of one stays as it was', () => {
    const post = (id: number, text: string, params: unknown[], ticket = 0): Call => ['post', id, text, params, ticket];
    const a = post(1, 'insert into sources(source) values (?)', ['a']);
    const bytes = post(1, 'insert into bodies(payload) values (?)', [new Uint8Array([1])]);
    const slash = post(1, 'insert into sources(source) values (?)', ['a\\b']);
    const odd = post(1, 'select ?::float8[]', [[1, NaN]]);
    const other = post(2, 'insert into sources(source) values (?)', ['b']);
    const ask: Call = ['ask', 1, 'select 1', []];
    const savepoint: Call = ['postExec', 1, 'savepoint s1'];
    const begin: Call = ['postExec', 1, 'begin'];
    const ended = post(1, 'select 1;', []);
    for (const lone of [bytes, slash, odd, ask, ended]) assert.deepEqual(coalesce([a, lone, a]), [a, lone, a], String(lone[2]));
    assert.deepEqual(coalesce([a, other, a]), [a, other, a]);
    assert.deepEqual(coalesce([a, begin, a]), [a, ['postMany', 1, ['begin', "insert into sources(source) values ('a')"], [0, 0], true]]);
    // a savepoint joins its run (its failure skips the rest, as the aborted transaction would)
    assert.deepEqual(coalesce([a, savepoint, a]), [['postMany', 1, ["insert into sources(source) values ('a')", 'savepoint s1', "insert into sources(source) values ('a')"], [0, 0, 0], true]]);
    // a write to the events drops a prefetched page, as post does
    assert.deepEqual(coalesce([a, post(1, 'delete from events where position = ?', [3])]).map((c) => c[c.length - 1]), [true]);
    assert.deepEqual(coalesce([]), []);
  });

  it('only with arrays allowed does an array go into the text (a read by COPY keeps its own rule), and only of finite numbers', () => {
    assert.equal(inlined('select ?::int4[]', [[1, -2]]), undefined);
    assert.equal(inlined('select ?::int4[]', [[1, -2]], true), "select '{1,-2}'::int4[]");
    assert.equal(inlined('select ?::int4[]', [[]], true), "select '{}'::int4[]");
    for (const odd of [[Infinity], ['1'], [null], [[1]]]) assert.equal(inlined('select ?', [odd], true), undefined);
  });
});
