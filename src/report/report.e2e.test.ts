import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { cli } from '../../test/support/cli.ts';
import { TORCH } from '../../test/support/fixtures.ts';
import { stormLines, twoRanksMerged } from '../../test/support/storm-lines.ts';
import { tempDir } from '../../test/support/tmp.ts';
import { ingestFile } from '../adapters/ingest-file.ts';
import { codeIdText } from '../model/code-id.ts';
import { renderEntry, renderProfile } from '../model/render.ts';
import { makeScalar } from '../model/entry.ts';
import { emptyProfile } from '../model/profile.ts';
import { updateAutomaticDynamic } from '../model/update.ts';
import { openLedger } from '../store/ledger.ts';
import { renderReportHtml } from './render-html.ts';
import { reportProfile } from './report-data.ts';
import { DIALECTS, ledgerAt } from '../../test/support/postgres.ts';

for (const dialect of DIALECTS) describe(dialect, () => {

  const OUT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test-output');
  const dir = tempDir();
  let browser: Browser;

  before(async () => {
    // Debian's chromium (scripts/test-deps.sh installs it); never a downloaded browser.
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  });
  after(async () => {
    await browser?.close();
  });

  describe('the HTML report in a real headless Chromium', () => {
    it('shows the fixture trace’s profile as `show` does; filters work; issue 8.8: each source shows the shapes each compile saw; a screenshot is saved', async () => {
      const ledger = await openLedger(ledgerAt(dialect, dir, 'r.db'));
      await ingestFile(ledger, join(TORCH, 'traces/cold-local.log'));
      const p = ledger.profileByKey('fixture:None:')!;
      const file = join(dir, 'report.html');
      writeFileSync(file, renderReportHtml([reportProfile(ledger, p)]));
      const view = ledger.view(p.id).profile;

      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      const requests: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      await page.goto(pathToFileURL(file).href);
      await page.waitForSelector('tr.entry');

      // the table against what `show` prints: every code id, source and rendered entry, in order
      const rows = await page.$$eval('tr.entry', (trs) => trs.map((tr) => [tr.getAttribute('data-code'), tr.getAttribute('data-source'), tr.querySelector('.rendered')!.textContent]));
      const want = [...view.codes.values()].flatMap(({ id, state }) => [...state.automaticDynamic].map(([s, e]) => [codeIdText(id), s, renderEntry(e)]));
      assert.deepEqual(rows, want);
      const show = renderProfile(view);
      for (const [code, source, rendered] of rows) {
        assert.ok(show.includes(`${code}:`), code!);
        assert.ok(show.includes(`  ${source}: ${rendered}`), `${source}: ${rendered}`);
      }
      assert.equal(await page.textContent('#advice'), show.slice(show.indexOf('TORCH_COMPILE_DYNAMIC_SOURCES=')));

      // a dynamic dim says when it turned dynamic (PyTorch's compile id from the trace)
      const aDims = await page.$$eval(`tr.entry[data-code$=":g"][data-source="L['a']"] .dim`, (ds) => ds.map((d) => [d.textContent, d.getAttribute('title')]));
      assert.equal(aDims[0][0], '4');
      assert.match(aDims[1][0]!, /^\?#\d+ · fixture:pid576@2026-11-26T05:46:07Z · 1\/1$/);
      assert.match(aDims[1][1]!, /dynamic since event #\d+ .*compile 1\/1/);

      // issue 8.8: the shapes each compile saw, from the trace's describe_tensor/describe_source
      const saw = (code: string, source: string) => page.textContent(`tr.entry[data-code$=":${code}"][data-source="${source}"] .saw`);
      assert.equal(await saw('f', "L['x']"), 'compile 0/0 saw [2, 3]; 0/1 saw [4, 3]');
      assert.equal(await saw('g', "L['a']"), 'compile 1/0 saw [4, 6]; 1/1 saw [4, 7]; 1/2 saw [4, 6]');
      assert.equal(await saw('forward', "L['x']"), 'compile 3/0 saw [2, 5, 8]; 3/1 saw [3, 7, 8]');
      assert.equal(await page.$$eval(`tr.entry[data-source="L['n']"] .saw`, (e) => e.length), 0, 'a scalar is not a described tensor');

      // filter by source
      await page.selectOption('#source-filter', "L['x']");
      const xs = await page.$$eval('tr.entry', (trs) => trs.map((tr) => tr.getAttribute('data-code')));
      assert.deepEqual(xs, ['hash(d02731e6)/srv/train/train.py:24:f', 'hash(d02731e6)/srv/train/train.py:20:forward']);
      // the search box
      await page.selectOption('#source-filter', '');
      await page.fill('#search', 'forward');
      assert.deepEqual(await page.$$eval('tr.entry', (trs) => trs.map((tr) => tr.getAttribute('data-source'))), ["L['x']", "L['self'].scale", "L['mask_len']"]);
      await page.fill('#search', '');
      // filter by run: every changed source of that run
      await page.selectOption('#run-filter', 'fixture:pid576@2026-11-26T05:46:07Z');
      const changed = await page.$$eval('tr.entry', (trs) => trs.length);
      assert.equal(changed, 7);
      await page.selectOption('#run-filter', '');
      // open a timeline: PyTorch's guard failure text is there
      await page.click(`tr.entry[data-code$=":g"][data-source="L['a']"] summary`);
      assert.match((await page.textContent(`tr.entry[data-code$=":g"][data-source="L['a']"] ol.timeline`))!, /guard failure: 1\/0: tensor 'a' size mismatch at index 1\. expected 6, actual 7/);
      await page.click('#copy');
      await page.waitForFunction("document.getElementById('copy').textContent === 'Copied'");

      mkdirSync(OUT, { recursive: true });
      await page.screenshot({ path: join(OUT, 'report.png'), fullPage: true });
      assert.deepEqual(requests.filter((u) => !u.startsWith('file://')), [], 'no network access');
      await page.close();
      await ledger.close();
    });

    it('10,000 code ids: one page of 50 at a time, the search still finds the last one', async () => {
      const profile = emptyProfile();
      for (let i = 0; i < 10_000; i++) {
        updateAutomaticDynamic(profile, { filename: `/srv/m${i % 97}.py`, firstlineno: i, name: `fn_${i}`, file_hash: 'abc' }, "L['n']", makeScalar(i % 5));
      }
      const data = { cacheKey: 'big:None:', events: 10_000, lastTime: null, dynamicSources: [], keepStatic: [], runs: [], codes: [...profile.codes.values()].map(({ id, state }) => ({ code: codeIdText(id), sources: [...state.automaticDynamic].map(([s, e]) => ({ source: s, rendered: renderEntry(e), kind: 'scalar' as const, dims: [], strides: [], observations: 1, timeline: [], saw: [] })) })) };
      const file = join(dir, 'big.html');
      writeFileSync(file, renderReportHtml([data]));
      const page = await browser.newPage();
      await page.goto(pathToFileURL(file).href);
      await page.waitForSelector('tr.entry');
      assert.equal(await page.$$eval('tr.code', (t) => t.length), 50);
      assert.equal(await page.textContent('#page'), 'page 1 of 200');
      await page.click('#next');
      assert.equal(await page.textContent('#page'), 'page 2 of 200');
      await page.fill('#search', 'fn_9999');
      assert.deepEqual(await page.$$eval('tr.entry', (trs) => trs.map((tr) => tr.getAttribute('data-code'))), ['hash(abc)/srv/m8.py:9999:fn_9999']);
      await page.close();
    });
  });

  it("issue 12.7: report --all -o DIR opens on an index of jobs with their storm figures, and a job's page has a timeline of the changes per run", async () => {
    const db = join(dir, 'storm.db');
    assert.equal(cli(db, ['ingest', stormLines(join(dir, 'storm.jsonl'))]).status, 0);
    const site = join(dir, 'site') + '/';
    const r = cli(db, ['report', '--all', '-o', site]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /wrote .*site\/index\.html \(3 profiles, 2 jobs on its index/);

    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.goto(pathToFileURL(join(site, 'index.html')).href);
    await page.waitForSelector('tr.job');
    // the stormiest job first, with stats' figures
    const jobs = await page.$$eval('tr.job', (trs) => trs.map((tr) => [tr.getAttribute('data-job'), tr.querySelector('.records')!.textContent, tr.querySelector('.busiest')!.textContent]));
    assert.deepEqual(jobs, [
      ['storm', '4 in 3 windows of 1h', '2 records in storm:0: run r1 from 2026-11-26T10:00:00.000Z'],
      ['calm', '0', '-'],
    ]);
    const dims = await page.$$eval('tr.job[data-job="storm"] li.dyn-dim', (ls) => ls.map((l) => l.textContent));
    // a job of several profiles names each dim's (trial s36b: the ranks' lines read as one line twice)
    assert.ok(dims.some((d) => /^L\['x'\] size\[0\] in \S+:24:forward of storm:0:: 256 seen 3 times, 8 seen 1000 times in 1003 observations$/.test(d!)), dims.join('\n'));

    // a job opens its first profile: its changes, run by run, in position order
    await page.click('tr.job[data-job="storm"] a.job-link');
    assert.match((await page.textContent('#summary'))!, /^storm:0: /);
    const runs = await page.$$eval('section.run', (ss) => ss.map((s) => ({ run: s.getAttribute('data-run'), head: s.querySelector('h3')!.textContent, items: [...s.querySelectorAll('li')].map((l) => [Number(l.getAttribute('data-position')), l.querySelector('.mono')!.textContent]) })));
    assert.deepEqual(runs.map((x) => [x.run, x.head]), [['r1', 'run r1 — 2 changes'], ['r2', 'run r2 — 1 change']]);
    assert.deepEqual(runs[0].items.map((i) => i[1]), ["L['x'] dim 0: 8 → 256", "L['n'] scalar: 4 → 7"]);
    assert.deepEqual(runs[1].items.map((i) => i[1]), ["L['y'] dim 0: 1 → 2"]);
    const positions = runs.flatMap((x) => x.items.map((i) => i[0] as number));
    assert.deepEqual(positions, [...positions].sort((a, b) => a - b), 'position order');
    // another profile of the job: its own runs
    await page.selectOption('#profile', { label: 'storm:1:' });
    assert.deepEqual(await page.$$eval('section.run', (ss) => ss.map((s) => s.getAttribute('data-run'))), ['r1b']);
    await page.selectOption('#profile', { label: 'calm:None:' });
    assert.equal(await page.textContent('#run-timeline'), 'No recompile records.');
    await page.close();
  });

  it("the index says '1 observation' of a dim seen once, as stats does (a merge of two ranks; s18-trial3)", async () => {
    const db = join(dir, 'one.db');
    twoRanksMerged(dir, (args) => cli(db, args).status === 0);
    const site = join(dir, 'one-site') + '/';
    assert.equal(cli(db, ['report', '--all', '-o', site]).status, 0);
    const page = await browser.newPage();
    await page.goto(pathToFileURL(join(site, 'index.html')).href);
    await page.waitForSelector('tr.job');
    const dims = await page.$$eval('tr.job[data-job="one-all"] li.dyn-dim', (ls) => ls.map((l) => l.textContent));
    // the values of the rank the merge brought the change from, as stats lists them (trial s36a: 8 alone, the target's import)
    assert.deepEqual(dims, ["L['x'] size[0] in hash(d02731e6)/srv/train.py:24:forward: 8 seen 1 time, 256 seen 1 time in 2 observations of one:1:, which the merge brought the change from"]);
    await page.close();
  });

  it("a merged profile's change names, as why does, what it came from in the rank: its observation, run, time and line, and a run retracted there since (session 19)", async () => {
    const d = join(dir, 'via');
    mkdirSync(d, { recursive: true });
    const db = join(d, 'l.db');
    twoRanksMerged(d, (args) => cli(db, args).status === 0);
    assert.equal(cli(db, ['retract', '--run', 'r1']).status, 0);
    const l = await openLedger(db, { readonly: true });
    let since;
    try {
      const r = reportProfile(l, l.profileByKey('one-all:None:')!);
      since = r.codes[0].sources[0].dims[0].since!;
    } finally {
      await l.close();
    }
    assert.equal(since.origin, 'profile one:1:');
    assert.deepEqual(since.via, {
      cacheKey: 'one:1:', position: 4, time: '2026-11-26T10:02:00.000Z', run: 'r1', compileId: null, reason: 'observation', origin: `${join(d, 'one1.jsonl')}:2`, retractedSince: true, via: null,
    });
    const html = join(d, 'r.html');
    assert.equal(cli(db, ['report', '--job', 'one-all', '-o', html]).status, 0);
    const page = await browser.newPage();
    await page.goto(pathToFileURL(html).href);
    await page.waitForSelector('span.dim.dynamic');
    const cell = await page.$eval('span.dim.dynamic', (e) => [e.getAttribute('title'), e.querySelector('small')!.textContent]);
    assert.match(cell[0]!, /: dynamic since event #\d+ \(.*\), from one:1:, where it came at #4 \(observation, run r1, 2026-11-26T10:02:00.000Z, .*one1\.jsonl:2\); run r1 was retracted from one:1: since, and the merge keeps what it joined$/);
    assert.match(cell[1]!, /← one:1: #4 · r1$/);
    await page.close();
  });
});
