import { counted } from '../counted.ts';
import type { ReportJob, ReportProfile } from './report-data.ts';

/** JSON inside a <script> element: nothing in it can close the element. */
function scriptJson(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/**
 * One self-contained HTML file: the data as JSON, the styles and the script inline, no
 * network. The table renders a page of code ids at a time, so 10,000 code ids stay quick.
 */
export function renderReportHtml(profiles: ReportProfile[], generatedAt: Date = new Date(), jobs: ReportJob[] = []): string {
  const title = profiles.length === 1 ? `pgo-ledger: ${profiles[0].cacheKey}` : `pgo-ledger: ${profiles.length} profiles`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>
  :root { --fg: #1d2330; --muted: #667085; --line: #e4e7ec; --dyn: #b42318; --dynbg: #fef3f2; --static: #027a48; --bg: #fff; --head: #f7f8fa; }
  * { box-sizing: border-box; }
  [hidden] { display: none !important; }
  body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); margin: 0; background: var(--bg); }
  header { padding: 16px 24px; border-bottom: 1px solid var(--line); background: var(--head); }
  h1 { font-size: 18px; margin: 0 0 4px; }
  h2 { font-size: 15px; margin: 20px 0 8px; }
  main { padding: 8px 24px 40px; }
  code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
  .muted { color: var(--muted); }
  .advice { display: flex; gap: 8px; align-items: flex-start; background: #fffaeb; border: 1px solid #fedf89; padding: 10px 12px; border-radius: 6px; }
  .advice code { word-break: break-all; flex: 1; }
  button { font: inherit; padding: 4px 10px; border: 1px solid #d0d5dd; background: #fff; border-radius: 6px; cursor: pointer; }
  button:disabled { opacity: .5; cursor: default; }
  .controls { display: flex; flex-wrap: wrap; gap: 12px; align-items: center; margin: 16px 0 8px; }
  .controls input, .controls select { font: inherit; padding: 4px 8px; border: 1px solid #d0d5dd; border-radius: 6px; }
  .controls input[type=search] { min-width: 260px; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; vertical-align: top; padding: 6px 8px; border-bottom: 1px solid var(--line); }
  th { background: var(--head); position: sticky; top: 0; font-weight: 600; }
  tr.code td { background: #f2f4f7; font-weight: 600; }
  .dims { display: flex; flex-wrap: wrap; gap: 4px; }
  .dim { border: 1px solid var(--line); border-radius: 4px; padding: 1px 6px; min-width: 2.2em; text-align: center; }
  .dim.static { color: var(--static); }
  .dim.dynamic { color: var(--dyn); background: var(--dynbg); border-color: #fecdca; font-weight: 600; }
  .dim small { display: block; font-weight: 400; color: var(--muted); font-size: 11px; }
  details summary { cursor: pointer; color: var(--muted); }
  ol.timeline { margin: 4px 0 0; padding-left: 18px; }
  ol.timeline li { margin-bottom: 4px; }
  .guard { color: var(--muted); font-size: 12px; }
  .pager { display: flex; gap: 8px; align-items: center; margin-top: 10px; }
  ul.keep { margin: 0; padding-left: 18px; }
  .saw { color: var(--muted); font-size: 12px; margin-top: 2px; }
  #index { margin-bottom: 24px; }
  section.run h3 { font-size: 14px; margin: 12px 0 4px; }
  ol.run-changes { margin: 0; padding-left: 22px; }
  .storm { color: var(--dyn); font-weight: 600; }
</style>
</head>
<body>
<header>
  <h1 id="title">${esc(title)}</h1>
  <div class="muted" id="summary"></div>
</header>
<main>
  <section id="index" hidden>
    <h2>Jobs</h2>
    <table id="jobs">
      <thead><tr><th>Job</th><th>Profiles</th><th>Recompile records</th><th>Busiest window</th><th>Dims turned dynamic: values seen there, rarest first</th></tr></thead>
      <tbody id="job-rows"></tbody>
    </table>
  </section>
  <div id="profile-pick" class="controls" hidden>
    <label>Profile <select id="profile"></select></label>
  </div>
  <h2>Compile these dynamic from the start</h2>
  <div class="advice" id="advice-box"><code id="advice"></code><button id="copy" type="button">Copy</button></div>
  <ul class="switches" id="switches"></ul>
  <h2>Candidates to keep static</h2>
  <div id="keep"></div>
  <h2>Changes by run</h2>
  <div id="run-timeline"></div>
  <div class="controls">
    <input type="search" id="search" placeholder="Search code ids and sources" aria-label="Search">
    <label>Source <select id="source-filter"><option value="">all sources</option></select></label>
    <label>Run <select id="run-filter"><option value="">all runs</option></select></label>
    <span class="muted" id="count"></span>
  </div>
  <table id="entries">
    <thead><tr><th>Source</th><th>Entry (as PyTorch renders it)</th><th>Dims</th><th>Changes</th><th>Seen</th></tr></thead>
    <tbody id="rows"></tbody>
  </table>
  <div class="pager"><button id="prev" type="button">Previous</button><span id="page"></span><button id="next" type="button">Next</button></div>
  <p class="muted">Generated ${esc(generatedAt.toISOString())} by pgo-ledger. Works from disk; nothing is fetched.</p>
</main>
<script type="application/json" id="data">${scriptJson(profiles)}</script>
<script type="application/json" id="jobs-data">${scriptJson(jobs)}</script>
<script>
(() => {
  // the command line's one way to say a count (counted.ts), as it is
  const counted = ${counted.toString()};
  const PAGE = 50;
  const all = JSON.parse(document.getElementById('data').textContent);
  const jobs = JSON.parse(document.getElementById('jobs-data').textContent);
  const $ = (id) => document.getElementById(id);
  const el = (tag, attrs, ...kids) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'class') e.className = v; else if (k === 'text') e.textContent = v; else e.setAttribute(k, v);
    }
    for (const k of kids) if (k != null) e.append(k);
    return e;
  };
  let prof = 0, page = 0;

  function setupProfile() {
    const p = all[prof];
    $('summary').textContent = p.cacheKey + ' — ' + p.events + ' events' + (p.lastTime ? ', last change ' + p.lastTime : '') + ', ' + p.codes.length + ' code ids';
    const adv = p.dynamicSources.length ? 'TORCH_COMPILE_DYNAMIC_SOURCES="' + p.dynamicSources.join(',') + '"' : '(nothing is dynamic)';
    $('advice').textContent = adv;
    $('copy').disabled = !p.dynamicSources.length;
    // the newer switches, each with the PyTorch versions that read it
    $('switches').replaceChildren(...(p.switches || []).map((a) => el('li', {}, el('code', { text: a.switch + '=' + a.quoted }), el('span', { class: 'muted', text: ' (' + a.versions + '): ' + a.why }))));
    const keep = $('keep');
    keep.replaceChildren(p.keepStatic.length
      ? el('ul', { class: 'keep' }, ...p.keepStatic.map((k) => el('li', {}, el('code', { text: k.source }), ' in ', el('code', { text: k.code }), el('span', { class: 'muted', text: ' — static over ' + counted(k.observations, 'observation') + (k.runs ? ' in ' + counted(k.runs, 'run') : '') }))))
      : el('p', { class: 'muted', text: 'None: every source seen at least 3 times has changed.' }));
    // issue 12.7: the changes of each run, in position order
    const runs = p.runTimeline || [];
    $('run-timeline').replaceChildren(...(runs.length ? runs.map((r) => el('section', { class: 'run', 'data-run': r.run === null ? '' : r.run },
      el('h3', { text: 'run ' + (r.run === null ? '(none)' : r.run) + ' — ' + counted(r.changes.length, 'change') }),
      el('ol', { class: 'run-changes' }, ...r.changes.map((t) => el('li', { 'data-position': String(t.position) },
        el('span', { class: 'mono', text: t.source + ' ' + (t.dim === 'scalar' || t.dim === 'all' ? t.dim : 'dim ' + t.dim) + ': ' + t.cached + ' → ' + t.new }),
        ' ', el('span', { class: 'muted', text: 'in ' + t.code + ' · ' + t.reason + ' · #' + t.position + ' · ' + t.time + (t.compileId ? ' · compile ' + t.compileId : '') })))))) : [el('p', { class: 'muted', text: 'No recompile records.' })]));
    const sources = [...new Set(p.codes.flatMap((c) => c.sources.map((s) => s.source)))].sort();
    $('source-filter').replaceChildren(el('option', { value: '', text: 'all sources' }), ...sources.map((s) => el('option', { value: s, text: s })));
    $('run-filter').replaceChildren(el('option', { value: '', text: 'all runs' }), ...p.runs.map((r) => el('option', { value: r, text: r })));
    page = 0;
    render();
  }

  function filtered() {
    const p = all[prof];
    const q = $('search').value.trim().toLowerCase();
    const src = $('source-filter').value;
    const run = $('run-filter').value;
    const out = [];
    for (const c of p.codes) {
      const codeHit = q && c.code.toLowerCase().includes(q);
      const sources = c.sources.filter((s) =>
        (!src || s.source === src) &&
        (!q || codeHit || s.source.toLowerCase().includes(q)) &&
        (!run || s.timeline.some((t) => t.run === run)));
      if (sources.length) out.push({ code: c.code, sources, run });
    }
    return out;
  }

  function since(t) {
    return '#' + t.position + (t.run ? ' · ' + t.run : '') + (t.compileId ? ' · ' + t.compileId : '') + (t.via ? ' ← ' + t.via.cacheKey + ' #' + t.via.position + (t.via.run ? ' · ' + t.via.run : '') : '');
  }

  // a merged change: where it came in the profile it was joined from, as why tells it
  function viaText(v) {
    if (!v) return '';
    return ', from ' + v.cacheKey + ', where it came at #' + v.position + ' (' + v.reason + (v.run ? ', run ' + v.run : '') + (v.compileId ? ', compile ' + v.compileId : '') + ', ' + v.time + (v.origin ? ', ' + v.origin : '') + ')' +
      (v.retractedSince ? '; run ' + v.run + ' was retracted from ' + v.cacheKey + ' since, and the merge keeps what it joined' : '') + viaText(v.via);
  }

  // what each compile saw of a source: "compile 0/0 saw [2, 3]; 0/1 saw [4, 3]" (the first 12)
  function saw(list) {
    if (!list.length) return null;
    const dims = (d) => '[' + d.map((x) => (x === null ? '?' : String(x))).join(', ') + ']';
    const shown = list.slice(0, 12).map((x, i) => (i ? '' : 'compile ') + (x.compileId || '?') + ' saw ' + dims(x.size));
    return el('div', { class: 'saw', text: shown.join('; ') + (list.length > 12 ? '; and ' + (list.length - 12) + ' more' : '') });
  }

  function render() {
    const codes = filtered();
    const pages = Math.max(1, Math.ceil(codes.length / PAGE));
    if (page >= pages) page = pages - 1;
    const rows = [];
    for (const c of codes.slice(page * PAGE, page * PAGE + PAGE)) {
      rows.push(el('tr', { class: 'code' }, el('td', { colspan: '5' }, el('code', { text: c.code }))));
      for (const s of c.sources) {
        const dims = el('div', { class: 'dims' }, ...s.dims.map((d) => {
          const dyn = d.value === '?';
          const cell = el('span', { class: 'dim ' + (dyn ? 'dynamic' : 'static'), title: d.label + (dyn && d.since ? ': dynamic since event #' + d.since.position + ' (' + d.since.time + (d.since.run ? ', run ' + d.since.run : '') + (d.since.compileId ? ', compile ' + d.since.compileId : '') + ')' + viaText(d.since.via) : dyn ? ': dynamic' : ': static') }, d.value);
          if (dyn && d.since) cell.append(el('small', { text: since(d.since) }));
          return cell;
        }));
        const tl = c.run ? s.timeline.filter((t) => t.run === c.run) : s.timeline;
        const changes = tl.length
          ? el('details', {}, el('summary', { text: counted(tl.length, 'change') }),
              el('ol', { class: 'timeline' }, ...tl.map((t) => el('li', {},
                el('span', { class: 'mono', text: (t.dim === 'scalar' || t.dim === 'all' ? t.dim : 'dim ' + t.dim) + ': ' + t.cached + ' → ' + t.new }),
                ' ', el('span', { class: 'muted', text: t.reason + ' · #' + t.position + ' · ' + t.time + (t.run ? ' · run ' + t.run : '') + (t.compileId ? ' · compile ' + t.compileId : '') + (t.origin ? ' · ' + t.origin : '') + viaText(t.via) }),
                t.guard ? el('div', { class: 'guard', text: 'guard failure: ' + t.guard }) : null))))
          : el('span', { class: 'muted', text: 'never changed' });
        rows.push(el('tr', { class: 'entry', 'data-code': c.code, 'data-source': s.source },
          el('td', {}, el('code', { text: s.source })),
          el('td', {}, el('code', { class: 'rendered', text: s.rendered }), saw(c.run ? s.saw.filter((x) => x.run === c.run) : s.saw)),
          el('td', {}, dims),
          el('td', {}, changes),
          el('td', { class: 'muted', text: String(s.observations) })));
      }
    }
    $('rows').replaceChildren(...rows);
    const n = codes.reduce((a, c) => a + c.sources.length, 0);
    $('count').textContent = counted(n, 'source') + ' in ' + counted(codes.length, 'code id');
    $('page').textContent = 'page ' + (page + 1) + ' of ' + pages;
    $('prev').disabled = page === 0;
    $('next').disabled = page >= pages - 1;
  }

  // issue 12.7: the index of jobs, with their storm figures; a job opens its first profile
  function showProfile(i) {
    prof = i;
    $('profile').value = String(i);
    setupProfile();
    $('profile-pick').scrollIntoView();
  }
  if (jobs.length) {
    $('index').hidden = false;
    const values = (d) => d.values.length ? d.values.map((v) => v.value + ' seen ' + counted(v.count, 'time')).join(', ') + ' in ' + counted(d.observations, 'observation') + (d.via ? ' of ' + d.via + ', which the merge brought the change from' : '') : 'no observations of it';
    $('job-rows').replaceChildren(...jobs.map((j) => {
      const link = el('a', { href: '#', class: 'job-link', text: j.job });
      link.addEventListener('click', (e) => { e.preventDefault(); showProfile(all.findIndex((p) => p.cacheKey === j.profiles[0])); });
      return el('tr', { class: 'job', 'data-job': j.job },
        el('td', {}, link),
        el('td', { class: 'mono', text: j.profiles.join(', ') }),
        el('td', { class: 'records', text: String(j.records) + (j.windows ? ' in ' + counted(j.windows, 'window') + ' of ' + j.windowLength : '') }),
        el('td', { class: 'busiest' }, j.busiest ? el('span', { class: j.busiest.records > 1 ? 'storm' : '', text: counted(j.busiest.records, 'record') }) : '-', j.busiest ? el('span', { class: 'muted', text: ' in ' + j.busiest.cacheKey + ' run ' + (j.busiest.run || '-') + ' from ' + j.busiest.start }) : null),
        el('td', {}, j.dims.length ? el('ul', { class: 'keep' }, ...j.dims.map((d) => el('li', { class: 'dyn-dim' }, el('code', { text: d.source + ' ' + d.dim }), ' in ', el('code', { text: d.code }), ...(j.profiles.length > 1 ? [' of ', el('code', { text: d.cacheKey })] : []), el('span', { class: 'muted', text: ': ' + values(d) })))) : el('span', { class: 'muted', text: 'none' })));
    }));
  }
  if (all.length > 1) {
    $('profile-pick').hidden = false;
    $('profile').replaceChildren(...all.map((p, i) => el('option', { value: String(i), text: p.cacheKey })));
    $('profile').addEventListener('change', () => { prof = Number($('profile').value); setupProfile(); });
  }
  for (const id of ['search', 'source-filter', 'run-filter']) $(id).addEventListener('input', () => { page = 0; render(); });
  $('prev').addEventListener('click', () => { page--; render(); });
  $('next').addEventListener('click', () => { page++; render(); });
  $('copy').addEventListener('click', async () => {
    const text = $('advice').textContent;
    try { await navigator.clipboard.writeText(text); }
    catch { const r = document.createRange(); r.selectNodeContents($('advice')); const s = getSelection(); s.removeAllRanges(); s.addRange(r); document.execCommand('copy'); }
    $('copy').textContent = 'Copied';
    setTimeout(() => { $('copy').textContent = 'Copy'; }, 1500);
  });
  if (all.length) setupProfile();
})();
</script>
</body>
</html>
`;
}
