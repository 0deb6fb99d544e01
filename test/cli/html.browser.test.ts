/**
 * The page functions/cli/html.ts renderHtml writes, opened in real headless Chromium through playwright-core
 * (/usr/bin/chromium; the suite is skipped, with a warning, without it): layout, scripts, no errors, no
 * network. html.test.ts checks the markup as a string.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunReport, renderHtml } from '../../functions/cli/html.ts';
import { bigReport, EVIL_NAME, fixtureReport } from './fixtures/report.ts';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  console.warn(
    `\n!!!!!!!! WARNING: ${CHROMIUM} not found: the HTML report browser test (test/cli/html.browser.test.ts) is SKIPPED. Install Debian's chromium to run it. !!!!!!!!\n`,
  );
}

const dir = mkdtempSync(join(tmpdir(), 'logs-kms-guard-html-'));

interface Opened {
  page: Page;
  url: string;
  errors: string[];
  requests: string[];
  /** From navigation to the gap table's first rows drawn. */
  ms: number;
}

/** The text of one column (by its data-k) of a table, top to bottom. */
const column = (page: Page, table: string, k: string) =>
  page.$$eval(
    `#${table} tbody tr`,
    (trs: any[], [tbl, key]) => {
      const ths: any[] = [...(globalThis as any).document.querySelectorAll(`#${tbl} thead th`)];
      const i = ths.findIndex((th) => th.dataset.k === key);
      return trs.map((tr) => tr.cells[i]?.textContent ?? '');
    },
    [table, k] as const,
  );
const gapRows = (page: Page, n: number) =>
  page.waitForFunction(
    (want) => (globalThis as any).document.querySelectorAll('#gaps tbody tr').length === want,
    n,
  );
const toNum = (s: string) => Number(s.replace(/[,%]/g, ''));

describe.skipIf(!hasChromium)(
  hasChromium
    ? 'HTML report in headless Chromium'
    : `HTML report in headless Chromium (skipped: ${CHROMIUM} is missing)`,
  () => {
    let browser: Browser;
    beforeAll(async () => {
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
      });
    }, 60_000);
    afterAll(async () => {
      await browser?.close();
    });

    async function open(report: RunReport, name: string): Promise<Opened> {
      const file = join(dir, `${name}.html`);
      writeFileSync(file, renderHtml(report));
      const url = pathToFileURL(file).href;
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const errors: string[] = [];
      const requests: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(`console: ${m.text()}`);
      });
      page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
      page.on('request', (r) => requests.push(r.url()));
      const t0 = Date.now();
      await page.goto(url, { waitUntil: 'load' });
      await page.waitForSelector('#gaps tbody tr');
      return { page, url, errors, requests, ms: Date.now() - t0 };
    }

    it('renders the fixture: title, cards, chart, tables, problems', async () => {
      const { page, url, errors, requests } = await open(fixtureReport(), 'fixture');
      // One pair failed: the run is incomplete, and the page says so from its title down (issue 20).
      expect(await page.title()).toBe('logs-kms-guard audit report — INCOMPLETE');
      expect(await page.textContent('#incomplete h2')).toBe(
        'Incomplete: 1 of 6 account-region(s) not audited',
      );
      const cards = await page.$$eval('.card', (els) =>
        els.map((e) => [e.querySelector('b')?.textContent, e.querySelector('span')?.textContent]),
      );
      // 204 listed; (128 guard + 15 other) / (204 − 2 reserved − 6 out of scope) = 73.0 %
      expect(cards.map((c) => c[0])).toEqual(['204', '73.0%', '43', '11', '10', '1 of 3']);
      expect(cards[1]?.[1]).toBe('coverage (143 of 196 encryptable) (incomplete: only what was listed)');
      expect(cards[5]?.[1]).toContain('3 done, 2 skipped, 1 failed');

      // One bar per account-region; segment widths proportional to the counts within each bar.
      const bars = await page.$$eval('svg.chart g.bar', (gs) =>
        gs.map((g) => ({
          pair: g.getAttribute('data-pair'),
          segs: [...g.querySelectorAll('rect.seg')].map((r: any) => ({
            n: Number(r.getAttribute('data-n')),
            w: r.getBBox().width,
            fill: (globalThis as any).getComputedStyle(r).fill,
            title: r.querySelector('title')?.textContent ?? '',
          })),
          empty: g.querySelectorAll('rect.empty').length,
        })),
      );
      expect(bars.map((b) => b.pair)).toEqual([
        '111111111111/us-east-1',
        '111111111111/eu-west-1',
        '222222222222/us-east-1',
        '222222222222/eu-west-1',
        '333333333333/us-east-1',
        '333333333333/eu-west-1',
      ]);
      const full = 480;
      for (const bar of bars) {
        const total = bar.segs.reduce((a, s) => a + s.n, 0);
        expect(bar.empty).toBe(total ? 0 : 1);
        if (!total) continue;
        expect(bar.segs.reduce((a, s) => a + s.w, 0)).toBeCloseTo(full, 0);
        for (const s of bar.segs) expect(s.w).toBeCloseTo((s.n / total) * full, 1);
      }
      expect(bars[0]?.segs.map((s) => s.n)).toEqual([80, 10, 12, 10, 8]);
      expect(new Set(bars[0]?.segs.map((s) => s.fill)).size).toBe(5);
      expect(bars[0]?.segs[0]?.title).toBe(`${EVIL_NAME} (111111111111) · us-east-1: 80 guard key (66.7%)`);
      expect(bars[4]?.segs).toEqual([]);
      expect(await page.getAttribute('svg.chart', 'role')).toBe('img');
      expect(await page.getAttribute('svg.chart', 'aria-label')).toMatch(/^Coverage per account and region/);
      expect(await page.$$eval('.legend li', (l) => l.length)).toBe(5);

      // The hostile names are text, not markup.
      expect(await page.$$eval('script', (s) => s.length)).toBe(2);
      expect(await page.$$eval('img', (i) => i.length)).toBe(0);
      expect((await column(page, 'gaps', 'accountName'))[0]).toBe(EVIL_NAME);
      expect(await column(page, 'gaps', 'logGroup')).toContain('/ecs/<img src=x onerror=alert(1)>');
      expect(await column(page, 'gaps', 'ks')).toContain('key-unusable (PendingDeletion)');
      expect(await column(page, 'gaps', 'unreadableFrom')).toContain('2026-11-02');

      expect(await page.$$eval('#pairs tbody tr', (r) => r.length)).toBe(6);
      expect(await column(page, 'pairs', 'status')).toEqual([
        'done',
        'done',
        'done',
        'failed',
        'skipped',
        'skipped',
      ]);
      expect(await column(page, 'pairs', 'cov')).toEqual(['80.4%', '100.0%', '25.0%', '75.0%', '–', '–']);
      expect(await page.$$eval('#problems li', (l) => l.map((x) => x.textContent))).toEqual([
        `failed: O'Brien's "sandbox" (222222222222) · eu-west-1 — ThrottlingException: Rate exceeded <after 8 retries>`,
        'skipped: 333333333333 · us-east-1 — AssumeRole denied: arn:aws:iam::333333333333:role/LogsKmsGuardAudit',
        'skipped: 333333333333 · eu-west-1 — region not enabled',
      ]);

      const shot = join(dir, 'report.png');
      await page.screenshot({ path: shot, fullPage: true });
      console.log(`HTML report screenshot: ${shot}`);

      expect(errors).toEqual([]);
      expect(requests).toEqual([url]);
      await page.close();
    });

    it('sorts by clicking a header (numbers numerically, both directions, aria-sort) and filters', async () => {
      const { page, errors, requests, url } = await open(fixtureReport(), 'sort');
      const listed = page.locator('#pairs th[data-k="listed"]');
      await listed.locator('button').click();
      expect(await listed.getAttribute('aria-sort')).toBe('ascending');
      expect((await column(page, 'pairs', 'listed')).map(toNum)).toEqual([0, 0, 4, 40, 40, 120]);
      await listed.locator('button').click();
      expect(await listed.getAttribute('aria-sort')).toBe('descending');
      expect((await column(page, 'pairs', 'listed')).map(toNum)).toEqual([120, 40, 40, 4, 0, 0]);

      // Coverage: numerically (100 after 80.4), n/a (skipped) last in both directions.
      const cov = page.locator('#pairs th[data-k="cov"]');
      await cov.locator('button').click();
      expect(await column(page, 'pairs', 'cov')).toEqual(['25.0%', '75.0%', '80.4%', '100.0%', '–', '–']);
      await cov.locator('button').click();
      expect(await column(page, 'pairs', 'cov')).toEqual(['100.0%', '80.4%', '75.0%', '25.0%', '–', '–']);
      expect(await cov.getAttribute('aria-sort')).toBe('descending');
      expect(await listed.getAttribute('aria-sort')).toBeNull();

      const group = page.locator('#gaps th[data-k="logGroup"] button');
      await group.click();
      const asc = await column(page, 'gaps', 'logGroup');
      expect(asc).toEqual([...asc].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
      expect(asc[0]).toBe('/alpha/api');
      expect(asc.at(-1)).toBe('/zeta/api');
      await group.click();
      expect(await column(page, 'gaps', 'logGroup')).toEqual([...asc].reverse());

      // The filter keeps the sort order, matches any column, case-insensitively.
      await page.fill('#q', 'SANDBOX');
      await gapRows(page, 3);
      expect(await column(page, 'gaps', 'logGroup')).toEqual(['/zeta/api', '/mid/worker', '/alpha/api']);
      expect(await page.textContent('#gaps-info')).toBe('Showing 3 of 3 matching (of 7) row(s).');
      await page.fill('#q', 'pendingdeletion');
      await gapRows(page, 1);
      await page.fill('#q', 'no such thing');
      await page.waitForFunction(
        () =>
          (globalThis as any).document.querySelector('#gaps tbody').textContent ===
          'No rows match the filter.',
      );
      await page.fill('#q', '');
      await gapRows(page, 7);

      expect(errors).toEqual([]);
      expect(requests).toEqual([url]);
      await page.close();
    });

    it('renders an empty report', async () => {
      const { page, errors, requests, url } = await open(
        fixtureReport({ pairs: [], rows: [], totals: fixtureReport({ pairs: [] }).totals }),
        'empty',
      );
      expect(await page.textContent('#gaps tbody')).toBe('None.');
      expect(await page.textContent('#pairs tbody')).toBe('None.');
      expect(await page.$$eval('.card b', (b) => b.map((x) => x.textContent))).toEqual([
        '0',
        'n/a',
        '0',
        '0',
        '0',
        '0 of 0',
      ]);
      expect(errors).toEqual([]);
      expect(requests).toEqual([url]);
      await page.close();
    });

    it('stays usable with 50,000 gap rows', async () => {
      const { page, errors, requests, url, ms } = await open(bigReport(50_000), 'big');
      const t = { load: ms, sort: 0, filter: 0, more: 0, all: 0 };
      expect(await page.textContent('#gaps-info')).toBe('Showing 500 of 50,000 row(s).');
      expect(await page.isVisible('#gaps-all')).toBe(false);

      let t0 = Date.now();
      await page.click('#gaps th[data-k="logGroup"] button');
      await page.click('#gaps th[data-k="logGroup"] button');
      expect((await column(page, 'gaps', 'logGroup'))[0]).toBe('/svc/49999/app');
      t.sort = Date.now() - t0;

      t0 = Date.now();
      await page.click('#gaps-more');
      await gapRows(page, 1000);
      t.more = Date.now() - t0;

      t0 = Date.now();
      await page.fill('#q', '/svc/4999');
      await gapRows(page, 11);
      t.filter = Date.now() - t0;

      // At most 10,000 rows at once ("show all"): 10,000 of the 50,000 are in us-east-1.
      await page.fill('#q', 'us-east-1');
      await gapRows(page, 500);
      expect(await page.textContent('#gaps-info')).toBe('Showing 500 of 10,000 matching (of 50,000) row(s).');
      t0 = Date.now();
      await page.click('#gaps-all');
      await gapRows(page, 10_000);
      await page.evaluate(() => (globalThis as any).document.body.offsetHeight);
      t.all = Date.now() - t0;

      // Timings are printed, not asserted: an absolute time in a test fails on a loaded machine, not on a slow page
      // (the functional checks above are the test; the figures are for a person reading the run).
      console.log(`50,000 gap rows (ms): ${JSON.stringify(t)}`);
      expect(errors).toEqual([]);
      expect(requests).toEqual([url]);
      await page.close();
      rmSync(fileURLToPath(url)); // 12 MB
    });
  },
  60_000,
);
