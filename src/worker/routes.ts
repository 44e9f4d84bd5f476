/**
 * Every path of the build service's API that a client calls, in one table, so the worker, `kiln
 * remote` and their tests agree with the server on one spelling (the bodies are in protocol.ts).
 */
const e = encodeURIComponent;

export const routes = {
  recipes: () => '/v1/recipes',
  builds: () => '/v1/builds',
  build: (id: string) => `/v1/builds/${e(id)}`,
  cancel: (id: string) => `/v1/builds/${e(id)}/cancel`,
  retry: (id: string) => `/v1/builds/${e(id)}/retry`,
  log: (id: string) => `/v1/builds/${e(id)}/log`,
  events: (id: string) => `/v1/builds/${e(id)}/events`,
  artifacts: (id: string) => `/v1/builds/${e(id)}/artifacts`,
  /** Names may hold "/" (files inside an OCI layout folder): encoded as one path segment. */
  artifact: (id: string, name: string) => `/v1/builds/${e(id)}/artifacts/${e(name)}`,
  workers: () => '/v1/workers',
  heartbeat: (worker: string) => `/v1/workers/${e(worker)}/heartbeat`,
  claim: (worker: string, waitSeconds: number) => `/v1/workers/${e(worker)}/claim?wait=${waitSeconds}`,
  jobEvents: (lease: string) => `/v1/jobs/${e(lease)}/events`,
  jobArtifact: (lease: string, name: string) => `/v1/jobs/${e(lease)}/artifacts/${e(name)}`,
  jobFinish: (lease: string) => `/v1/jobs/${e(lease)}/finish`,
} as const;
