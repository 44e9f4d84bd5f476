/**
 * The web interface's first load in Debian's chromium (headless) against `kiln serve` on 127.0.0.1:
 * RUNS loads, each in a fresh browser context (an empty cache) after one warm-up load of the
 * server; bytes transferred, the app's first render mark and the first contentful paint, as median
 * and best. Target: under 200 KB and a median first render under 300 ms on a quiet machine.
 *   node dist/bench/web-first-load.js [runs (default 10)]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { coldLoad, launch, warmUp, type ColdLoad } from '../test/e2e/web/browser.js';
import { startServe } from './kiln-serve.js';
import { median } from './median.js';

const RUNS = Number(process.argv[2] ?? 10);

const data = mkdtempSync(join(tmpdir(), 'kiln-bench-web-'));
const server = await startServe(data, undefined, 0);
const browser = await launch();
try {
  await warmUp(browser, server.url);
  const loads: ColdLoad[] = [];
  for (let i = 0; i < RUNS; i++) loads.push(await coldLoad(browser, server.url));
  const figure = (name: string, pick: (l: ColdLoad) => number, unit: string) => {
    const xs = loads.map(pick);
    console.log(`${name.padEnd(24)} median ${median(xs).toFixed(0)} ${unit}, best ${Math.min(...xs).toFixed(0)}, worst ${Math.max(...xs).toFixed(0)}`);
  };
  console.log(`${RUNS} cold loads; load average ${loadavg()[0]?.toFixed(1)}`);
  figure('transferred', (l) => l.bytes, 'bytes');
  figure('first render', (l) => l.render, 'ms');
  figure('first contentful paint', (l) => l.firstContentfulPaint, 'ms');
} finally {
  await browser.close();
  await server.stop();
  rmSync(data, { recursive: true, force: true });
}
