/** The service's state store: open it with `openServiceStore`; everything else is its interface. */
export { openServiceStore, DEFAULT_MAX_RETRIES, type OpenOptions, type StoreTarget } from './open.js';
export { LeaseLostError } from './service-store.js';
export type { ArtifactRow, BuildFilter, Lease, NewBuild, NewBuildEvent, ServiceStore, StoredToken, StoredWorker } from './service-store.js';
export { newId, idTime } from './ids.js';
