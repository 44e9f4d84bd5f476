/** The build worker: `kiln worker` and the in-process worker of `kiln serve`. */
export { runWorker, DEFAULT_KILN_MAIN, type WorkerOptions } from './worker.js';
export { lineLog, type WorkerLog } from './log.js';
export { hostArch } from '../arch/host-arch.js';
export { ApiClient, ApiError } from './api.js';
export { routes } from './routes.js';
