/**
 * The build service's state, behind one interface with two engines (SQLite for one machine,
 * PostgreSQL for several servers sharing a database). The HTTP layer calls only this; every
 * method is one transaction, so a server killed at any point leaves a consistent database.
 */
import type { Build, BuildState, BuildStreamEvent, RecipeVersion, Scope, WorkerEvent, WorkerState } from '../protocol.js';

/**
 * An event before the store numbers it. Distributes over the union (a plain
 * `Omit<BuildStreamEvent, 'seq'>` would keep only the fields common to all types).
 */
export type NewBuildEvent = BuildStreamEvent extends infer E ? (E extends BuildStreamEvent ? Omit<E, 'seq'> : never) : never;

/** The lease was ended (finished, expired, or its worker re-registered): HTTP 409 `lease_lost`. */
export class LeaseLostError extends Error {
  constructor(readonly leaseId: string) {
    super(`lease ${leaseId} is no longer held: the build was requeued, finished or canceled`);
    this.name = 'LeaseLostError';
  }
}

export interface StoredToken {
  id: string;
  name: string;
  scopes: Scope[];
  /** sha256 hex of the secret; the secret itself is never stored. */
  hash: string;
  createdAt: string;
  lastUsedAt?: string;
  revoked: boolean;
}

export interface StoredWorker {
  id: string;
  name: string;
  arches: string[];
  concurrency: number;
  state: WorkerState;
  version: string;
  registeredAt: string;
  lastHeartbeat: string;
}

export interface Lease {
  id: string;
  buildId: string;
  workerId: string;
  /** sha256 hex of the job token. */
  tokenHash: string;
  createdAt: string;
  /** Highest worker event number stored for this lease (dedupes resends). */
  lastEventN: number;
}

export interface NewBuild {
  recipe: string;
  version: number;
  arch: string;
  set: Record<string, string>;
  retryOf?: string;
}

export interface BuildFilter {
  state?: BuildState;
  recipe?: string;
  limit: number;
  /** Builds created before this id (ids sort by creation), newest first. */
  before?: string;
}

export interface ArtifactRow {
  buildId: string;
  name: string;
  size: number;
  sha256: string;
  /** Path relative to the artifact folder. */
  path: string;
  createdAt: string;
}

export interface ServiceStore {
  /** Applies pending migrations (versioned; each in a transaction), then returns. */
  migrate(): Promise<void>;
  close(): Promise<void>;
  /** Copies every row into `target` (a new, empty, migrated database of either engine). */
  copyTo(target: ServiceStore, note: (line: string) => void): Promise<Record<string, number>>;
  readonly engine: 'sqlite' | 'postgres';

  // tokens
  createToken(t: { name: string; scopes: Scope[]; hash: string }): Promise<StoredToken>;
  /** By id (the non-secret part of a token); the caller compares hashes in constant time. */
  tokenById(id: string): Promise<StoredToken | undefined>;
  listTokens(): Promise<StoredToken[]>;
  revokeToken(id: string): Promise<boolean>;
  touchToken(id: string, at: string): Promise<void>;
  /** Every token ever made, revoked ones included (0 only on a fresh service). */
  countTokens(): Promise<number>;

  // recipes (bundles are stored by the caller under the data folder, keyed by hash)
  /** Returns the existing version when `hash` is already a version of `name`. */
  addRecipeVersion(v: Omit<RecipeVersion, 'version' | 'createdAt'>): Promise<{ version: RecipeVersion; created: boolean }>;
  recipeVersions(name: string): Promise<RecipeVersion[]>;
  recipeVersion(name: string, version?: number): Promise<RecipeVersion | undefined>;
  listRecipes(): Promise<{ name: string; latest: number; versions: number; updatedAt: string }[]>;

  // builds. Every state change appends its `state` event in the same transaction (queued on
  // create, running on claim, the final state, queued again on requeue): callers never do.
  createBuild(b: NewBuild): Promise<Build>;
  getBuild(id: string): Promise<Build | undefined>;
  listBuilds(f: BuildFilter): Promise<Build[]>;
  countBuildsByState(): Promise<Record<BuildState, number>>;
  /** queued → canceled at once; running → cancel requested (the worker stops it). False when final. */
  requestCancel(id: string): Promise<'canceled' | 'requested' | 'final' | 'missing'>;
  cancelRequested(buildId: string): Promise<boolean>;

  // queue
  /**
   * Atomically takes the oldest queued build whose arch is in `arches` and makes a lease for it
   * (SQLite: one IMMEDIATE transaction; PostgreSQL: FOR UPDATE SKIP LOCKED). Never the same build
   * to two callers.
   */
  claim(workerId: string, arches: string[], tokenHash: string): Promise<{ build: Build; lease: Lease } | undefined>;
  /**
   * Resolves when a build may have been queued (PostgreSQL NOTIFY, or in-process), after ms, or on
   * abort; never rejects. Waiting starts when it is called, so call it before `claim` and await it
   * after an empty claim: a build queued in between then wakes it. On SQLite a wait lasts at most 1 s.
   */
  waitForWork(ms: number, signal?: AbortSignal): Promise<void>;
  lease(id: string): Promise<Lease | undefined>;
  /**
   * Stores the events whose n is above the lease's last, as build stream events; returns those
   * stored. Throws LeaseLostError when the lease has ended.
   */
  appendWorkerEvents(leaseId: string, events: WorkerEvent[]): Promise<BuildStreamEvent[]>;
  /**
   * Ends a lease: the build becomes succeeded or failed (or canceled when that was requested).
   * Throws LeaseLostError when the lease has already ended.
   */
  finishLease(leaseId: string, result: { ok: boolean; error?: string }): Promise<Build>;
  /**
   * Leases of workers silent for longer than `lostMs`: the worker is marked lost, each build is
   * requeued (attempt + 1) or, past `maxRetries`, failed with "worker lost". Returns the builds touched.
   */
  expireLeases(now: string, lostMs: number, maxRetries: number): Promise<Build[]>;

  // events and logs
  /** Events with seq > after, in order (at most limit). */
  events(buildId: string, after: number, limit: number): Promise<BuildStreamEvent[]>;
  /** Appends a server-made event (artifacts; state events come with the state changes themselves). */
  appendEvent(buildId: string, e: NewBuildEvent): Promise<BuildStreamEvent>;
  /** Resolves when build `buildId` may have new events, after ms, or on abort (as waitForWork). */
  waitForEvents(buildId: string, ms: number, signal?: AbortSignal): Promise<void>;

  // workers
  /** Earlier workers of the same name become lost and their builds are requeued at once. */
  registerWorker(w: Omit<StoredWorker, 'id' | 'state' | 'registeredAt' | 'lastHeartbeat'>): Promise<StoredWorker>;
  /** Undefined for an unknown worker, or a lost one whose name registered again since. */
  heartbeat(workerId: string, state: WorkerState, at: string): Promise<StoredWorker | undefined>;
  listWorkers(): Promise<(StoredWorker & { builds: string[] })[]>;
  workerLeases(workerId: string): Promise<Lease[]>;

  // artifacts (listed only after the file is stored and its sha256 checked)
  /** Adds or replaces the artifact of that name; the caller appends the `artifact` event. */
  addArtifact(a: ArtifactRow): Promise<void>;
  artifacts(buildId: string): Promise<ArtifactRow[]>;
}
