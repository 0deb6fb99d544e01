/** `audit --format html`: one self-contained page (inline CSS, JS and SVG; no fetch of any kind). */
import type { SweepCounts } from '../core/sweep/report.ts';
import { completenessOf, type PairSummary } from './completeness.ts';
import { queryResultsLines } from './query-results.ts';
import type { AuditRow } from './report.ts';

/** A gap row, with the account's name where Organizations gave one. */
export interface ReportRow extends AuditRow {
  account: string;
  accountName?: string;
}

/** Everything the page shows: the run, its scope, its pairs, its totals and its gaps. */
export interface RunReport {
  tool: { name: string; version: string };
  command: string;
  startedAt: string;
  finishedAt: string;
  scope: {
    accounts: string;
    regions: string[];
    include: string[];
    exclude: string[];
    keyAlias: string;
    keyArn?: string;
    roleName?: string;
    prefix?: string;
    /** Set when the opt-out tag was not read (`audit --skip-opt-out-check`): what that means for the counts. */
    optOutCheck?: string;
    /** Set for a resumed run: which run it continues and that it covers only what that run left. */
    resumed?: string;
  };
  /** One per account × region attempted. */
  pairs: PairSummary[];
  totals: SweepCounts;
  /** The gaps: unencrypted groups in scope, groups on an unusable key, groups at risk. */
  rows: ReportRow[];
  /** How many gap rows were left out of `rows`. */
  rowsTruncated?: number;
}

/** Groups in scope that can carry a key: listed − AWS-reserved − out of scope. */
export const encryptable = (c: SweepCounts): number => Math.max(0, c.listed - c.reserved - c.outOfScope);

/** (guard key + other key) ÷ encryptable, in %, capped at 100; undefined when nothing is encryptable. */
export function coverage(c: SweepCounts): number | undefined {
  const n = encryptable(c);
  return n > 0 ? Math.min(100, (100 * (c.guardKey + c.otherKey)) / n) : undefined;
}

/** What the coverage figure means, in the page's words. */
export const COVERAGE_DEFINITION =
  'Coverage = groups on a customer-managed key (guard key or other) ÷ encryptable groups, encryptable = ' +
  'listed − AWS-reserved (aws/…) − out of scope; capped at 100% (encrypted out-of-scope groups count too).';

/** The chart's segments, in order: [class, legend, colour]. */
export const SEGMENTS = [
  ['guard', 'guard key', '#2e7d32'],
  ['other', 'other customer-managed key', '#7cb342'],
  ['gap', 'unencrypted in scope (gap)', '#d32f2f'],
  ['risk', 'unusable key (disabled, pending deletion, …)', '#7b1fa2'],
  ['rest', 'unencrypted, out of scope or AWS-reserved', '#bdbdbd'],
] as const;

/** A bar's segment counts, in SEGMENTS' order: they partition `listed` (the rest is unencrypted, not in scope). */
export function segments(c: SweepCounts): number[] {
  const known = c.guardKey + c.otherKey + c.candidates + c.keyUnusable;
  return [c.guardKey, c.otherKey, c.candidates, c.keyUnusable, Math.max(0, c.listed - known)];
}

/** At most this many bars: beyond, the account-regions with the lowest coverage. */
export const CHART_MAX = 300;

const esc = (s: unknown): string => String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** JSON safe inside a `<script>` element: `<`, `>`, `&`, U+2028, U+2029 as \u escapes. */
export const scriptJson = (value: unknown): string =>
  JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );

const num = (n: number): string => n.toLocaleString('en-US');
const pct = (p: number | undefined): string => (p === undefined ? 'n/a' : `${p.toFixed(1)}%`);
const at = (iso: string): string => iso.replace('T', ' ').replace(/(\.\d+)?Z$/, ' UTC');
const cut = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

function duration(from: string, to: string): string {
  const s = Math.round((Date.parse(to) - Date.parse(from)) / 1000);
  if (!(s >= 0)) return 'n/a';
  const [h, m] = [Math.floor(s / 3600), Math.floor((s % 3600) / 60)];
  return `${h ? `${h}h ` : ''}${h || m ? `${m}m ` : ''}${s % 60}s`;
}

const pairLabel = (p: PairSummary, n = 200): string =>
  `${p.accountName ? `${cut(p.accountName, n)} (${p.account})` : p.account} · ${p.region}`;

function chart(pairs: PairSummary[]): string {
  let shown = pairs;
  let note = '';
  if (pairs.length > CHART_MAX) {
    const key = (p: PairSummary) => (p.status === 'done' ? (coverage(p.counts) ?? 101) : -1);
    shown = [...pairs].sort((a, b) => key(a) - key(b)).slice(0, CHART_MAX);
    note = `<p class="note">The ${CHART_MAX} account-regions (of ${num(pairs.length)}) with the lowest coverage.</p>`;
  }
  const [x0, w] = [360, 480];
  const bars = shown.map((p, i) => {
    const y = i * 24;
    const seg = segments(p.counts);
    const total = seg.reduce((a, b) => a + b, 0);
    let x = x0;
    const box = (cls: string, from: number, width: number, tip: string) =>
      `<rect class="${cls}" x="${from.toFixed(2)}" y="${y + 4}" width="${width.toFixed(2)}" height="16"><title>${esc(tip)}</title></rect>`;
    const rects = seg.map((n, s) => {
      const [k, label] = SEGMENTS[s] ?? SEGMENTS[4];
      const width = (n / total) * w;
      x += width;
      const tip = `${pairLabel(p)}: ${num(n)} ${label} (${((100 * n) / total).toFixed(1)}%)`;
      return n ? box(`seg s-${k}" data-n="${n}`, x - width, width, tip) : '';
    });
    const right = total
      ? `${pct(coverage(p.counts))} of ${num(encryptable(p.counts))}${p.status === 'done' ? '' : ` · ${p.status}`}`
      : p.status;
    const empty = total
      ? ''
      : box('empty', x0, w, `${pairLabel(p)}: ${p.status}${p.reason ? `: ${p.reason}` : ''}`);
    return `<g class="bar st-${esc(p.status)}" data-pair="${esc(`${p.account}/${p.region}`)}"><text x="${x0 - 8}" y="${y + 16}" text-anchor="end">${esc(pairLabel(p, 20))}</text>${empty}${rects.join('')}<text x="${x0 + w + 8}" y="${y + 16}">${esc(right)}</text></g>`;
  });
  const legend = SEGMENTS.map(([k, label]) => `<li><i class="s-${k}"></i>${label}</li>`).join('');
  return `${note}<svg class="chart" role="img" aria-label="Coverage per account and region: one stacked bar per account-region" viewBox="0 0 1000 ${shown.length * 24}">${bars.join('')}</svg><ul class="legend">${legend}</ul>`;
}

const PAIR_COLS =
  'account:Account,accountName:Name:w,region:Region,status:Status,listed:Listed:num,cov:Coverage:num,candidates:Unencrypted in scope:num,atRisk:At risk:num,keyUnusable:Unusable key:num,guardKey:Guard key:num,otherKey:Other key:num,outOfScope:Out of scope:num,reserved:Reserved:num,failed:Failed:num,reason:Reason / note:w';
const GAP_COLS =
  'account:Account,accountName:Account name:w,region:Region,logGroup:Log group:w,ks:Key state:w,kmsKeyId:Key:w,atRisk:At risk:w,unreadableFrom:Unreadable from,foughtBy:Fought over by:w,note:Note:w';

function table(id: string, cols: string, caption: string): string {
  const ths = cols.split(',').map((c) => {
    const [k, label, cls = ''] = c.split(':');
    return `<th scope="col" data-k="${k}" class="${cls}"><button type="button">${label}</button></th>`;
  });
  return `<div class="scroll"><table id="${id}"><caption>${caption}</caption><thead><tr>${ths.join('')}</tr></thead><tbody></tbody></table></div><p class="pager"><span id="${id}-info"></span> <button type="button" id="${id}-more" hidden></button> <button type="button" id="${id}-all" hidden>Show all</button></p>`;
}

const CSS = `:root{--b:#d0d7de;--m:#57606a;--bad:#d32f2f;--warn:#b26a00;font:14px/1.45 system-ui,sans-serif;color:#1f2328}
body{margin:0 auto;max-width:1280px;padding:24px}h1{font-size:22px;margin:0 0 8px}h2{font-size:17px;margin:28px 0 8px}
.meta{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px}dt{font-weight:600;color:var(--m)}dd{margin:0;overflow-wrap:anywhere}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(160px,1fr));gap:12px}.card b{display:block;font-size:26px}
.card,.problems,.scroll{border:1px solid var(--b);border-radius:8px;padding:12px 14px;break-inside:avoid}.card span,.note,.pager,caption{color:var(--m);font-size:12px}
.bad{border-color:var(--bad);background:#fff5f5}.bad b,.hot{color:var(--bad)!important}.ok b{color:#2e7d32}
.problems{border-color:var(--warn);border-left-width:6px;background:#fffbf0;padding:4px 16px}
.chart text{font-size:12px}.empty{fill:#f6f8fa;stroke:var(--b);stroke-dasharray:4 3}.st-interrupted.bar text{fill:var(--warn)}.st-failed.bar text{fill:var(--bad)}.st-skipped.bar text{fill:var(--m)}
${SEGMENTS.map(([k, , c]) => `.s-${k}{fill:${c};background:${c}}`).join('')}
.legend{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:4px 16px;font-size:12px}.legend i{display:inline-block;width:12px;height:12px;margin-right:6px;-webkit-print-color-adjust:exact;print-color-adjust:exact}
.scroll{overflow:auto;max-height:75vh;padding:0}table{border-collapse:collapse;width:100%;font-size:13px}caption{text-align:left;padding:6px}
th,td{padding:4px 6px;border-bottom:1px solid #eaeef2;text-align:left;vertical-align:top;white-space:nowrap}th{position:sticky;top:0;background:#f6f8fa;white-space:normal}
.w{white-space:normal;overflow-wrap:anywhere;min-width:8em}th button{all:unset;cursor:pointer;font-weight:600}th button:focus-visible{outline:2px solid #0969da}
th[aria-sort=ascending] button::after{content:" ▲"}th[aria-sort=descending] button::after{content:" ▼"}.num{text-align:right;font-variant-numeric:tabular-nums}
tr:nth-child(even) td{background:#fafbfc}.st-interrupted,.trunc,.hot{color:var(--warn);font-weight:600}.st-failed{color:var(--bad);font-weight:600}.st-skipped{color:var(--m)}
.incomplete{border:2px solid var(--bad);border-left-width:8px;border-radius:8px;background:#fff5f5;padding:4px 16px;margin:0 0 16px}.incomplete h2{color:var(--bad);margin-top:8px}
input{font:inherit;padding:5px 8px;width:min(420px,100%);border:1px solid var(--b);border-radius:6px}
@media print{body{padding:0}.scroll{max-height:none;overflow:visible}th{position:static}input,.pager button{display:none}tr{break-inside:avoid}}`;

const JS = `(()=>{const G=(i)=>document.getElementById(i),D=JSON.parse(G('report-data').textContent),P=500,ALL=1e4,C=new Intl.Collator('en',{numeric:true}),
e=(s)=>String(s).replace(/[&<>"']/g,(c)=>'&#'+c.charCodeAt(0)+';'),l=(n)=>n.toLocaleString('en-US'),
f=(k,v,n)=>v==null||v===''?n?'–':'':k==='cov'?v.toFixed(1)+'%':n?l(v):String(v);
function T(id,rows,q){const ths=[...G(id).tHead.rows[0].cells],b=G(id).tBodies[0],inf=G(id+'-info'),mo=G(id+'-more'),al=G(id+'-all'),
cols=ths.map((h)=>({k:h.dataset.k,c:h.className,n:h.className==='num'}));let v=rows,sh=P,sk=-1,d=1,s='',tm;
rows.forEach((r,i)=>{r._i=i});
const txt=(r)=>r._t||(r._t=cols.map((c)=>f(c.k,r[c.k],c.n)).join('\\u0001').toLowerCase());
const td=(r,c)=>{const x=r[c.k];return'<td class="'+c.c+(c.k==='status'?' st-'+e(x):'')+(c.n&&x>0&&/^(candidates|atRisk|keyUnusable|failed)$/.test(c.k)?' hot':'')+'">'+e(f(c.k,x,c.n))+'</td>'};
function draw(){const n=Math.min(sh,v.length),h=[];for(let i=0;i<n;i++)h.push('<tr>'+cols.map((c)=>td(v[i],c)).join('')+'</tr>');
b.innerHTML=h.join('')||'<tr><td colspan="'+cols.length+'">'+(rows.length?'No rows match the filter.':'None.')+'</td></tr>';
inf.textContent='Showing '+l(n)+' of '+l(v.length)+(v.length<rows.length?' matching (of '+l(rows.length)+')':'')+' row(s).';
mo.hidden=n>=v.length;al.hidden=mo.hidden||v.length>ALL;mo.textContent='Show '+l(Math.min(P,v.length-n))+' more'}
function sort(){const c=cols[sk];if(c)v.sort((a,b)=>{const x=a[c.k],y=b[c.k];if(c.n&&(x==null||y==null))return x==null?(y==null?a._i-b._i:1):-1;
return(c.n?x-y:C.compare(x==null?'':String(x),y==null?'':String(y)))*d||a._i-b._i})}
function run(){v=s?rows.filter((r)=>txt(r).includes(s)):rows.slice();sort();sh=P;draw()}
ths.forEach((h,i)=>h.querySelector('button').addEventListener('click',()=>{d=sk===i?-d:1;sk=i;
ths.forEach((o,j)=>j===i?o.setAttribute('aria-sort',d>0?'ascending':'descending'):o.removeAttribute('aria-sort'));sort();draw()}));
mo.addEventListener('click',()=>{sh+=P;draw()});al.addEventListener('click',()=>{sh=v.length;draw()});
q?.addEventListener('input',()=>{clearTimeout(tm);tm=setTimeout(()=>{s=q.value.trim().toLowerCase();run()},120)});run()}
T('pairs',D.pairs.map((p)=>{const c=p.counts,n=c.listed-c.reserved-c.outOfScope;return{...c,account:p.account,accountName:p.accountName,region:p.region,status:p.status,
cov:n>0?Math.min(100,100*(c.guardKey+c.otherKey)/n):null,reason:p.reason||''}}));
T('gaps',D.rows.map((r)=>Object.assign(r,{ks:r.keyStatus&&r.keyStatus!==r.keyState?r.keyState+' ('+r.keyStatus+')':r.keyState,unreadableFrom:r.unreadableFrom.slice(0,10)})),G('q'))})()`;

/** A totals card: red when bad, green when good, neutral when not known (`bad` undefined, or an incomplete run). */
const card = (value: string, label: string, bad?: boolean) =>
  `<div class="card ${bad === undefined ? '' : bad ? 'bad' : 'ok'}"><b>${esc(value)}</b><span>${esc(label)}</span></div>`;

/** The banner of a run that did not finish every account-region: never a clean result. */
function incompleteBanner(c: ReturnType<typeof completenessOf>): string {
  if (c.complete) return '';
  const items = c.errors.map(
    (e) =>
      `<li><b>${esc(e.status)}</b>: ${esc(e.accountName ? `${e.accountName} (${e.account})` : e.account || 'this account')} · ${esc(e.region)} — ${esc(e.error)}${e.check ? `<br>check: ${esc(e.check)}` : ''}</li>`,
  );
  return `<section class="incomplete" id="incomplete" role="alert"><h2>Incomplete: ${c.notDone} of ${c.pairs} account-region(s) not audited</h2><p>The counts below cover only what was listed: they are not a clean result. The command exits 3.</p><ul>${items.join('')}</ul></section>`;
}

/** The whole page of a run, data inlined and escaped. */
export function renderHtml(report: RunReport): string {
  const { scope: sc, totals: t, pairs } = report;
  const by = (s: string) => `${pairs.filter((p) => p.status === s).length} ${s}`;
  const accounts = new Map<string, boolean>();
  for (const p of pairs) accounts.set(p.account, (accounts.get(p.account) ?? true) && p.status === 'done');
  const done = [...accounts.values()].filter(Boolean).length;
  const completeness = completenessOf(pairs);
  const incomplete = !completeness.complete;
  // An incomplete run shows no green: a zero there may only mean nothing was listed.
  const good = (bad: boolean) => (bad ? true : incomplete ? undefined : false);
  const partly = incomplete ? ' (incomplete: only what was listed)' : '';
  const notFinished = new Set(completeness.errors.map((e) => e.account)).size;
  const cov = coverage(t);
  const tool = `${report.tool.name} ${report.tool.version}`;
  const title = esc(`${report.tool.name} ${report.command} report${incomplete ? ' — INCOMPLETE' : ''}`);
  const meta = Object.entries({
    Started: at(report.startedAt),
    Finished: `${at(report.finishedAt)} (took ${duration(report.startedAt, report.finishedAt)})`,
    Accounts: sc.accounts,
    Regions: sc.regions.join(', ') || 'n/a',
    Include: sc.include.join(', ') || 'all log groups',
    Exclude: sc.exclude.join(', ') || 'none',
    'Key alias': sc.keyAlias,
    'Key ARN': sc.keyArn,
    'Role name': sc.roleName,
    Prefix: sc.prefix,
    'Opt-out check': sc.optOutCheck,
    Resumed: sc.resumed,
    Tool: tool,
  }).map(([k, v]) => (v ? `<dt>${k}</dt><dd>${esc(v)}</dd>` : ''));
  const problems = pairs
    .filter((p) => p.status !== 'done')
    .map(
      (p) => `<li><b>${esc(p.status)}</b>: ${esc(pairLabel(p))}${p.reason ? ` — ${esc(p.reason)}` : ''}</li>`,
    );
  // Optional, and the same for every group of an account-region: said once, under the pairs, as information.
  const queryLines = queryResultsLines(pairs, Boolean(sc.roleName));
  const queryNote = queryLines.length
    ? `<p class="note" id="query-results">${queryLines.map(esc).join('<br>')}</p>`
    : '';
  const cards = [
    card(num(t.listed), `log groups listed${partly}`),
    card(
      pct(cov),
      `coverage (${num(t.guardKey + t.otherKey)} of ${num(encryptable(t))} encryptable)${partly}`,
      good((cov ?? 100) < 100),
    ),
    card(num(t.candidates), `unencrypted in scope${partly}`, good(t.candidates > 0)),
    card(num(t.atRisk), `at risk (data may become unreadable)${partly}`, good(t.atRisk > 0)),
    card(num(t.keyUnusable), `on an unusable key${partly}`, good(t.keyUnusable > 0)),
    card(
      `${done} of ${accounts.size}`,
      `accounts fully audited${incomplete ? `; INCOMPLETE: ${notFinished} not finished (failed or interrupted)` : ''} (account-regions: ${['done', 'skipped', 'failed', 'interrupted'].map(by).join(', ')})`,
      incomplete ? true : done < accounts.size ? undefined : false,
    ),
  ];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width,initial-scale=1"><link rel="icon" href="data:,">
<title>${title}</title><style>${CSS}</style></head><body>
<header><h1>${title}</h1><dl class="meta">${meta.join('')}</dl></header>
<main>${incompleteBanner(completeness)}<section class="cards" aria-label="Totals">${cards.join('')}</section>
<p class="note">${esc(COVERAGE_DEFINITION)}</p>
${problems.length ? `<section class="problems" id="problems"><h2>Skipped, failed or interrupted account-regions (${problems.length})</h2><ul>${problems.join('')}</ul></section>` : ''}
<section><h2>Coverage per account and region</h2>${pairs.length ? chart(pairs) : '<p>No account-region was attempted.</p>'}</section>
<section><h2>Account × region summary</h2>${table('pairs', PAIR_COLS, 'Click a column header to sort.')}${queryNote}</section>
<section><h2>Gaps and at-risk groups</h2><p class="note">Unencrypted groups in scope, groups on an unusable key, groups at risk, and groups infrastructure as code keeps taking the key from (fought over).</p>
${report.rowsTruncated ? `<p class="trunc">${num(report.rowsTruncated)} more gap row(s) left out (the list is capped); the counts include them.</p>` : ''}
<input type="search" id="q" placeholder="Filter (any column)…" aria-label="Filter the gaps and at-risk groups">
${table('gaps', GAP_COLS, 'Click a column header to sort; type in the box to filter.')}</section>
<noscript>The tables need JavaScript.</noscript></main>
<script type="application/json" id="report-data">${scriptJson(report)}</script>
<script>${JS}</script>
</body></html>
`;
}
