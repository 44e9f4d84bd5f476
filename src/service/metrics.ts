/**
 * Prometheus metrics, one registry per server. Gauges are read from the store when scraped, so
 * several servers sharing one database report the same queue; the duration histogram counts the
 * builds this server saw finish.
 */
import { Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ServiceStore } from './db/service-store.js';
import { BUILD_STATES, WORKER_STATES, type Build } from './protocol.js';

export interface ServiceMetrics {
  registry: Registry;
  finished(build: Build): void;
}

export function serviceMetrics(store: ServiceStore): ServiceMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'kiln_process_' });
  new Gauge({
    name: 'kiln_queue_depth',
    help: 'Builds waiting for a worker',
    registers: [registry],
    async collect() {
      this.set((await store.countBuildsByState()).queued);
    },
  });
  new Gauge({
    name: 'kiln_builds',
    help: 'Builds by state',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const counts = await store.countBuildsByState();
      for (const state of BUILD_STATES) this.set({ state }, counts[state] ?? 0);
    },
  });
  new Gauge({
    name: 'kiln_workers',
    help: 'Workers by state',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const workers = await store.listWorkers();
      for (const state of WORKER_STATES) this.set({ state }, workers.filter((w) => w.state === state).length);
    },
  });
  const duration = new Histogram({
    name: 'kiln_build_duration_seconds',
    help: 'Time from a build starting on a worker to its end, by final state',
    labelNames: ['state'],
    buckets: [10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200],
    registers: [registry],
  });
  // Zeroed so the series exist (and dashboards work) before the first build ends.
  for (const state of ['succeeded', 'failed', 'canceled']) duration.zero({ state });
  return {
    registry,
    finished(build) {
      if (!build.startedAt || !build.finishedAt) return;
      duration.observe({ state: build.state }, (Date.parse(build.finishedAt) - Date.parse(build.startedAt)) / 1000);
    },
  };
}
