/**
 * The HTML report's markup (functions/cli/html.ts renderHtml) as a string, no browser: self-contained with a
 * strict CSP, escaping, the JSON island, the figures and the chart. html.browser.test.ts runs the page
 * itself.
 */
import { describe, expect, it } from 'vitest';
import {
  CHART_MAX,
  coverage,
  encryptable,
  renderHtml,
  scriptJson,
  segments,
} from '../../functions/cli/html.ts';
import { emptyCounts } from '../../functions/core/sweep/report.ts';
import { counts, fixtureReport } from './fixtures/report.ts';

/** The page without its JSON island and script: what the HTML parser sees as markup. */
const markup = (html: string) => html.replace(/<script\b[^>]*>[\s\S]*?<\/script>/g, '');

function island(html: string): unknown {
  const m = /<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(html);
  if (!m?.[1]) throw new Error('no JSON island');
  return JSON.parse(m[1]);
}

describe('renderHtml', () => {
  it('is one self-contained document with a strict CSP and nothing fetched', () => {
    const html = renderHtml(fixtureReport());
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain(
      `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">`,
    );
    expect(html).not.toMatch(/<(link|script|img)\b[^>]*\s(src|href)="(?!data:)/i);
    expect(html).not.toMatch(/https?:\/\/(?!docs\.aws)/);
    expect(html).not.toMatch(/@import|url\(/);
  });

  it('escapes names, groups and reasons in the markup', () => {
    const html = renderHtml(fixtureReport());
    const m = markup(html);
    expect(m).not.toContain('<script>alert');
    expect(m).not.toContain('<img');
    expect(m).toContain('Prod &#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62; &#38; &#39;co&#39;');
    expect(m).toContain('O&#39;Brien&#39;s &#34;sandbox&#34;');
    expect(m).toContain('ThrottlingException: Rate exceeded &#60;after 8 retries&#62;');
    // The only script elements are the island and the page's own script.
    expect(html.match(/<script\b/g)).toHaveLength(2);
    expect(html.match(/<\/script>/g)).toHaveLength(2);
  });

  it('embeds the report as JSON that decodes back to it, with < > & U+2028 U+2029 escaped', () => {
    const report = fixtureReport();
    const html = renderHtml(report);
    const json = /id="report-data">([\s\S]*?)<\/script>/.exec(html)?.[1] ?? '';
    expect(json).not.toMatch(/[<>&\u2028\u2029]/);
    expect(json).toContain('\\u003cscript\\u003e');
    expect(json).toContain('\\u2028');
    expect(island(html)).toEqual(report);
    expect(JSON.parse(scriptJson({ s: '</script><!--&\u2029' }))).toEqual({ s: '</script><!--&\u2029' });
  });

  it('shows the scope, times and totals', () => {
    const html = renderHtml(fixtureReport());
    for (const s of [
      'organization o-abc123 (ou-x1y2-prod)',
      'us-east-1, eu-west-1',
      '/aws/lambda/, /app/',
      '/app/debug',
      'alias/logs-kms-guard',
      'LogsKmsGuardAudit',
      '2026-05-01 10:00:00 UTC',
      '2026-05-01 10:03:25 UTC (took 3m 25s)',
      'logs-kms-guard 0.1.0',
    ]) {
      expect(html).toContain(s);
    }
    // 204 listed; coverage (128 + 15) / (204 − 2 reserved − 6 out of scope) = 73.0 %
    // One pair failed: every total says it covers only what was listed (issue 20: never a clean-looking page).
    expect(html).toContain('<b>204</b><span>log groups listed (incomplete: only what was listed)</span>');
    expect(html).toContain(
      '<b>73.0%</b><span>coverage (143 of 196 encryptable) (incomplete: only what was listed)</span>',
    );
    expect(html).toContain('<b>43</b><span>unencrypted in scope (incomplete');
    expect(html).toContain('<b>11</b><span>at risk');
    expect(html).toContain('<b>10</b><span>on an unusable key');
    // Was "1 / 2 accounts done / not done", which read as complete (issue 20, item 1h).
    expect(html).toContain(
      '<div class="card bad"><b>1 of 3</b><span>accounts fully audited; INCOMPLETE: 1 not finished',
    );
    expect(html).toContain('2 skipped, 1 failed');
    expect(html).toContain('Coverage = groups on a customer-managed key');
  });

  it('lists the skipped and failed account-regions with their reason', () => {
    const html = renderHtml(fixtureReport());
    const section = /<section class="problems"[\s\S]*?<\/section>/.exec(html)?.[0] ?? '';
    expect(section.match(/<li>/g)).toHaveLength(3);
    expect(section).toContain('AssumeRole denied: arn:aws:iam::333333333333:role/LogsKmsGuardAudit');
    expect(section).toContain('region not enabled');
  });

  it('an incomplete run: a banner naming each failed pair and what to check, and no green card', () => {
    const html = renderHtml(fixtureReport());
    const banner = /<section class="incomplete"[\s\S]*?<\/section>/.exec(html)?.[0] ?? '';
    expect(banner).toContain('Incomplete: 1 of 6 account-region(s) not audited');
    expect(banner).toContain('222222222222');
    expect(banner).toContain('ThrottlingException');
    expect(html).not.toContain('class="card ok"');
    expect(html).toMatch(/<title>[^<]*INCOMPLETE<\/title>/);
  });

  it('a complete run: no banner, good totals green; a failed pair red, a skip grey', () => {
    const pairs = fixtureReport().pairs.filter((p) => p.status !== 'failed');
    const html = renderHtml(fixtureReport({ pairs, totals: counts({ listed: 10, guardKey: 10 }) }));
    expect(html).not.toContain('id="incomplete"');
    expect(html).toContain('<div class="card ok"><b>0</b><span>unencrypted in scope</span>');
    expect(html).toContain('.st-failed{color:var(--bad)');
    expect(html).toContain('.st-skipped{color:var(--m)}');
  });

  it('draws one bar per account-region, segments proportional to the counts', () => {
    const html = renderHtml(fixtureReport());
    const bars = html.match(/<g class="bar[\s\S]*?<\/g>/g) ?? [];
    expect(bars).toHaveLength(6);
    const first = bars[0] ?? '';
    const widths = [...first.matchAll(/data-n="(\d+)"[^>]*width="([\d.]+)"/g)].map((m) => [
      Number(m[1]),
      Number(m[2]),
    ]);
    // guard 80, other 10, gap 12, unusable 10, rest 8 (= 20 no key − 12 in scope)
    expect(widths.map((w) => w[0])).toEqual([80, 10, 12, 10, 8]);
    for (const [n, w] of widths) expect(w).toBeCloseTo(((n as number) / 120) * 480, 1);
    expect(html).toMatch(/<svg class="chart" role="img" aria-label="Coverage per account and region/);
  });

  it('renders an empty report', () => {
    const html = renderHtml(
      fixtureReport({
        pairs: [],
        rows: [],
        totals: emptyCounts(),
        scope: {
          accounts: 'this account (123456789012)',
          regions: [],
          include: [],
          exclude: [],
          keyAlias: 'alias/x',
        },
      }),
    );
    expect(html).toContain('<b>0</b><span>log groups listed</span>');
    expect(html).toContain('<b>n/a</b><span>coverage');
    expect(html).toContain('No account-region was attempted.');
    expect(html).not.toContain('class="problems"');
    expect(island(html)).toMatchObject({ pairs: [], rows: [] });
  });

  it('charts at most CHART_MAX account-regions, the lowest coverage first', () => {
    const pairs = Array.from({ length: CHART_MAX + 5 }, (_, i) => ({
      account: String(100000000000 + i),
      region: 'us-east-1',
      status: 'done' as const,
      counts: counts({ guardKey: i, noKey: 1, candidates: 1 }),
    }));
    const html = renderHtml(fixtureReport({ pairs }));
    const bars = [...html.matchAll(/<g class="bar[^>]*data-pair="(\d+)\//g)].map(
      (m) => Number(m[1]) - 100000000000,
    );
    expect(bars).toHaveLength(CHART_MAX);
    expect(bars.slice(0, 3)).toEqual([0, 1, 2]);
    expect(html).toContain(`The ${CHART_MAX} account-regions (of 305) with the lowest coverage.`);
  });

  it('says when gap rows were left out', () => {
    expect(renderHtml(fixtureReport({ rowsTruncated: 12345 }))).toContain('12,345 more gap row(s) left out');
  });

  it('defines coverage over the encryptable groups, capped at 100 %', () => {
    const c = {
      ...emptyCounts(),
      listed: 10,
      guardKey: 6,
      otherKey: 2,
      noKey: 2,
      outOfScope: 4,
      reserved: 1,
    };
    expect(encryptable(c)).toBe(5);
    expect(coverage(c)).toBe(100);
    expect(coverage({ ...c, outOfScope: 0, reserved: 0 })).toBe(80);
    expect(coverage(emptyCounts())).toBeUndefined();
    expect(segments({ ...c, candidates: 2 })).toEqual([6, 2, 2, 0, 0]);
  });
});
