/** Helpers of the store contract tests (store-suite.ts, store-suite-queue.ts). */
import type { WorkerEvent } from '../protocol.js';
import type { ServiceStore } from './service-store.js';

export interface SuiteEngine {
  name: string;
  /** A new empty database; the function opens a store on it (several may share it). */
  fresh(): Promise<() => Promise<ServiceStore>>;
}

export const hash = (c: string) => c.repeat(64).slice(0, 64);
export const time = '2026-01-01T00:00:00.000Z';

export async function withStores(engine: SuiteEngine, count: number, fn: (...stores: ServiceStore[]) => Promise<void>): Promise<void> {
  const open = await engine.fresh();
  const stores: ServiceStore[] = [];
  try {
    for (let i = 0; i < count; i++) stores.push(await open());
    await fn(...stores);
  } finally {
    for (const s of stores) await s.close();
  }
}

export async function worker(s: ServiceStore, name = 'w1', arches = ['amd64'], concurrency = 4) {
  return s.registerWorker({ name, arches, concurrency, version: 'test' });
}

export async function queued(s: ServiceStore, n: number, arch = 'amd64', recipe = 'r'): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await s.createBuild({ recipe, version: 1, arch, set: { I: String(i) } })).id);
  return ids;
}

export const log = (n: number, line: string): WorkerEvent => ({ n, type: 'log', time, line });
