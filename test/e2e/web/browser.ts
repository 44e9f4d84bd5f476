/** Chromium for the browser tests (Debian's package, headless), and what every test does with it. */
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's chromium; KILN_CHROMIUM names another. */
export const CHROMIUM = process.env.KILN_CHROMIUM ?? '/usr/bin/chromium';

export function launch(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
}

/** Where screenshots go: KILN_WEB_SCREENSHOTS (e.g. docs/screenshots), else a folder under the temp dir. */
export function screenshotDir(): string {
  const dir = resolve(process.env.KILN_WEB_SCREENSHOTS ?? join(tmpdir(), 'kiln-web-screenshots'));
  mkdirSync(dir, { recursive: true });
  return dir;
}

export const DESKTOP = { width: 1280, height: 900 };
export const PHONE = { width: 375, height: 740 };

/** A desktop and a phone-sized screenshot of the page as it is. */
export async function shoot(page: Page, name: string): Promise<void> {
  const dir = screenshotDir();
  const size = page.viewportSize() ?? DESKTOP;
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
  await page.setViewportSize(PHONE);
  await page.screenshot({ path: join(dir, `${name}-phone.png`), fullPage: true });
  await page.setViewportSize(size);
}

/** Signs in through the form, as a person does. */
export async function signIn(page: Page, url: string, token: string): Promise<void> {
  await page.goto(`${url}/#/signin`);
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/#\/builds/);
}

/** Fails with the page's own words when an error box shows instead of what was expected. */
export async function noErrorBox(page: Page): Promise<void> {
  const errors = await page.locator('.error').allInnerTexts();
  if (errors.length) throw new Error(`the page shows an error: ${errors.join(' | ')}`);
}

/** One load of the page, so the server has built and compressed its script before loads are measured. */
export async function warmUp(browser: Browser, url: string): Promise<void> {
  const page = await browser.newPage();
  await page.goto(url);
  await page.waitForSelector('h1');
  await page.close();
}

/** What one load of the page in a fresh browser context (an empty cache) cost. */
export interface ColdLoad {
  /** Bytes over the wire: the page and every resource it fetched. */
  bytes: number;
  /** When the app's first render mark fell, in ms after navigation started. */
  render: number;
  firstContentfulPaint: number;
}

export async function coldLoad(browser: Browser, url: string): Promise<ColdLoad> {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(url);
    await page.waitForFunction(() => performance.getEntriesByName('kiln:first-render').length > 0);
    return await page.evaluate(() => {
      const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
      const resources = performance.getEntriesByType('resource') as PerformanceResourceTiming[];
      return {
        bytes: nav.transferSize + resources.reduce((n, r) => n + r.transferSize, 0),
        render: performance.getEntriesByName('kiln:first-render')[0]?.startTime ?? Infinity,
        firstContentfulPaint: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? Infinity,
      };
    });
  } finally {
    await context.close();
  }
}
