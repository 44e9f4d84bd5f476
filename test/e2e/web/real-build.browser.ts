/**
 * A real build through the web interface: `kiln serve` (SQLite, 127.0.0.1) with its real worker
 * running `kiln build` of a container recipe. Sign in, start the build from the form with a
 * variable, watch the log and the stage timeline fill in without a reload, see it finish and its
 * artifacts appear, download one and check its sha256; cancel a second build while it runs.
 * Run: node --test dist/src/web/browser/real-build.browser.js (in npm test through test/e2e).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { Build } from '../../../src/service/protocol.js';
import { DESKTOP, launch, noErrorBox, shoot, signIn } from './browser.js';
import { startKilnService, type KilnService } from './kiln-service.js';
import { call } from './scripted-worker.js';
import { sharedCache } from '../kiln.js';

// The worker's builds inherit this process's environment: the suite's store, never the user's own.
process.env.KILN_CACHE = sharedCache('web-real-build');

const RECIPE = `# A container image: the smallest real build (no kernel, no disk).
name: web-container
variables: { HOST: kiln-web }
hostname: \${HOST}
kernel: { package: none }
bootloader: none
packages: [ca-certificates]
outputs: [tar]
`;
const BUILD_MS = 15 * 60_000;

let kiln: KilnService;
let browser: Browser;
let page: Page;
// A value no earlier run used, so the stages run (and log) instead of coming from the cache.
const unique = `web-${process.pid}-${Date.now() % 1_000_000}`;

before(async () => {
  kiln = await startKilnService({ workers: 1 });
  browser = await launch();
  page = await browser.newPage({ viewport: DESKTOP });
});

after(async () => {
  await browser?.close();
  await kiln?.stop();
});

async function startFromForm(host: string): Promise<string> {
  await page.getByRole('navigation').getByRole('link', { name: 'New build' }).click();
  await page.getByLabel('HOST').fill(host);
  await page.getByRole('button', { name: 'Start build' }).click();
  await page.waitForURL(/#\/builds\/[0-9a-z]+$/);
  return page.url().split('/').pop() ?? '';
}

void test('a real container build, followed live from the form to its artifacts', { timeout: BUILD_MS + 60_000 }, async () => {
  await signIn(page, kiln.url, kiln.tokens.admin);
  await page.getByRole('navigation').getByRole('link', { name: 'Recipes' }).click();
  await page.getByLabel('Recipe file or bundle').setInputFiles({ name: 'recipe.yaml', mimeType: 'application/yaml', buffer: Buffer.from(RECIPE) });
  await page.getByRole('button', { name: 'Upload' }).click();
  await page.getByText('Stored web-container version 1.').waitFor();

  const id = await startFromForm(`${unique}-a`);
  // Marks this document: if the page reloaded, the mark would be gone.
  await page.evaluate(() => ((window as unknown as { kilnTest: boolean }).kilnTest = true));
  const built = (await call(kiln.url, kiln.tokens.admin, 'GET', `/v1/builds/${id}`)) as Build;
  assert.deepEqual(built.set, { HOST: `${unique}-a` });

  // While it runs: log lines arrive and a stage finishes, on this same page.
  await page.locator('h1 .badge', { hasText: 'running' }).waitFor({ timeout: 120_000 });
  await page.locator('.stage-running').first().waitFor({ timeout: 120_000 });
  await page.waitForFunction(() => parseFloat(document.querySelector<HTMLElement>('.log-spacer')?.style.height ?? '0') > 0, undefined, { timeout: 120_000 });
  await shoot(page, '20-real-build-running');
  await page.locator('.stage-done').first().waitFor({ timeout: BUILD_MS });
  const linesWhileRunning = await page.evaluate(() => parseFloat(document.querySelector<HTMLElement>('.log-spacer')?.style.height ?? '0') / 18);

  await page.locator('h1 .badge', { hasText: 'succeeded' }).waitFor({ timeout: BUILD_MS });
  assert.equal(await page.evaluate(() => (window as unknown as { kilnTest?: boolean }).kilnTest), true, 'the page was not reloaded');
  const lines = await page.evaluate(() => parseFloat(document.querySelector<HTMLElement>('.log-spacer')?.style.height ?? '0') / 18);
  assert.ok(lines >= linesWhileRunning && lines > 10, `${linesWhileRunning} lines while running, ${lines} in all`);
  assert.equal(await page.locator('.stage-pending').count(), 0);
  await page.locator('tr[data-artifact="web-container.tar"]').waitFor();
  await page.locator('tr[data-artifact="build.json"]').waitFor();

  // Download one and check it against the sha256 the page lists (and the API).
  const { artifacts } = (await call(kiln.url, kiln.tokens.admin, 'GET', `/v1/builds/${id}/artifacts`)) as { artifacts: { name: string; sha256: string; size: number }[] };
  const small = artifacts.filter((a) => a.name !== 'web-container.tar').sort((a, b) => a.size - b.size)[0];
  assert.ok(small, 'some artifact besides the image');
  assert.equal(await page.locator(`tr[data-artifact="${small.name}"] .hash`).innerText(), small.sha256);
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: `Download ${small.name}`, exact: true }).click()]);
  assert.equal(createHash('sha256').update(await readFile(await download.path())).digest('hex'), small.sha256);
  await page.locator('.stages .stage').first().waitFor();
  await page.getByText(/of \d+ packages/).waitFor();
  await noErrorBox(page);
  await shoot(page, '21-real-build-succeeded');
});

void test('a running real build is canceled from its page', { timeout: BUILD_MS }, async () => {
  const id = await startFromForm(`${unique}-b`);
  await page.locator('h1 .badge', { hasText: 'running' }).waitFor({ timeout: 120_000 });
  await page.waitForFunction(() => parseFloat(document.querySelector<HTMLElement>('.log-spacer')?.style.height ?? '0') > 0, undefined, { timeout: 120_000 });
  await page.getByRole('button', { name: 'Cancel build' }).click();
  await page.locator('h1 .badge', { hasText: 'canceled' }).waitFor({ timeout: 120_000 });
  const build = (await call(kiln.url, kiln.tokens.admin, 'GET', `/v1/builds/${id}`)) as Build;
  assert.equal(build.state, 'canceled');
  await shoot(page, '22-real-build-canceled');
});
