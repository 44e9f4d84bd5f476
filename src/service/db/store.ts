/** The ServiceStore over Kysely: each method is one function of the query modules. */
import type { Build, BuildState, BuildStreamEvent, RecipeVersion, Scope, WorkerEvent, WorkerState } from '../protocol.js';
import * as artifacts from './artifacts.js';
import * as builds from './builds.js';
import type { StoreContext } from './context.js';
import { copyTables } from './copy.js';
import * as events from './events.js';
import { migrate } from './migrate.js';
import { SQLITE_WAKE_MS, wakeKey } from './notify.js';
import * as queue from './queue.js';
import * as recipes from './recipes.js';
import type { ArtifactRow, BuildFilter, Lease, NewBuild, NewBuildEvent, ServiceStore, StoredToken, StoredWorker } from './service-store.js';
import * as tokens from './tokens.js';
import * as workers from './workers.js';

export class KyselyServiceStore implements ServiceStore {
  constructor(
    private readonly ctx: StoreContext,
    private readonly closeAll: () => Promise<void>,
  ) {}

  get engine(): 'sqlite' | 'postgres' {
    return this.ctx.pg ? 'postgres' : 'sqlite';
  }

  migrate = (): Promise<void> => migrate(this.ctx);
  /** Copies every row of this (migrated) store into `target`, which must be empty (see copy.ts). */
  copyTo = (target: ServiceStore, note: (line: string) => void): Promise<Record<string, number>> => {
    if (!(target instanceof KyselyServiceStore)) throw new Error('copyTo: the target is not a database store');
    return copyTables(this.ctx.db, target.ctx.db, note);
  };
  close = (): Promise<void> => this.closeAll();

  createToken = (t: { name: string; scopes: Scope[]; hash: string }): Promise<StoredToken> => tokens.createToken(this.ctx, t);
  tokenById = (id: string): Promise<StoredToken | undefined> => tokens.tokenById(this.ctx, id);
  listTokens = (): Promise<StoredToken[]> => tokens.listTokens(this.ctx);
  revokeToken = (id: string): Promise<boolean> => tokens.revokeToken(this.ctx, id);
  touchToken = (id: string, at: string): Promise<void> => tokens.touchToken(this.ctx, id, at);
  countTokens = (): Promise<number> => tokens.countTokens(this.ctx);

  addRecipeVersion = (v: Omit<RecipeVersion, 'version' | 'createdAt'>): Promise<{ version: RecipeVersion; created: boolean }> => recipes.addRecipeVersion(this.ctx, v);
  recipeVersions = (name: string): Promise<RecipeVersion[]> => recipes.recipeVersions(this.ctx, name);
  recipeVersion = (name: string, version?: number): Promise<RecipeVersion | undefined> => recipes.recipeVersion(this.ctx, name, version);
  listRecipes = (): Promise<{ name: string; latest: number; versions: number; updatedAt: string }[]> => recipes.listRecipes(this.ctx);

  createBuild = (b: NewBuild): Promise<Build> => builds.createBuild(this.ctx, b);
  getBuild = (id: string): Promise<Build | undefined> => builds.getBuild(this.ctx, id);
  listBuilds = (f: BuildFilter): Promise<Build[]> => builds.listBuilds(this.ctx, f);
  countBuildsByState = (): Promise<Record<BuildState, number>> => builds.countBuildsByState(this.ctx);
  requestCancel = (id: string): Promise<'canceled' | 'requested' | 'final' | 'missing'> => builds.requestCancel(this.ctx, id);
  cancelRequested = (buildId: string): Promise<boolean> => builds.cancelRequested(this.ctx, buildId);

  claim = (workerId: string, arches: string[], tokenHash: string): Promise<{ build: Build; lease: Lease } | undefined> =>
    queue.claim(this.ctx, workerId, arches, tokenHash);
  waitForWork = (ms: number, signal?: AbortSignal): Promise<void> => this.ctx.wakeups.wait(wakeKey('work', ''), this.#cap(ms), signal);
  lease = (id: string): Promise<Lease | undefined> => queue.lease(this.ctx, id);
  appendWorkerEvents = (leaseId: string, e: WorkerEvent[]): Promise<BuildStreamEvent[]> => queue.appendWorkerEvents(this.ctx, leaseId, e);
  finishLease = (leaseId: string, result: { ok: boolean; error?: string }): Promise<Build> => queue.finishLease(this.ctx, leaseId, result);
  expireLeases = (now: string, lostMs: number, maxRetries: number): Promise<Build[]> => queue.expireLeases(this.ctx, now, lostMs, maxRetries);

  events = (buildId: string, after: number, limit: number): Promise<BuildStreamEvent[]> => events.readEvents(this.ctx, buildId, after, limit);
  appendEvent = (buildId: string, e: NewBuildEvent): Promise<BuildStreamEvent> => events.appendEvent(this.ctx, buildId, e);
  waitForEvents = (buildId: string, ms: number, signal?: AbortSignal): Promise<void> => this.ctx.wakeups.wait(wakeKey('events', buildId), this.#cap(ms), signal);

  registerWorker = async (w: Omit<StoredWorker, 'id' | 'state' | 'registeredAt' | 'lastHeartbeat'>): Promise<StoredWorker> =>
    (await workers.registerWorker(this.ctx, w)).worker;
  heartbeat = (workerId: string, state: WorkerState, at: string): Promise<StoredWorker | undefined> => workers.heartbeat(this.ctx, workerId, state, at);
  listWorkers = (): Promise<(StoredWorker & { builds: string[] })[]> => workers.listWorkers(this.ctx);
  workerLeases = (workerId: string): Promise<Lease[]> => workers.workerLeases(this.ctx, workerId);

  addArtifact = (a: ArtifactRow): Promise<void> => artifacts.addArtifact(this.ctx, a);
  artifacts = (buildId: string): Promise<ArtifactRow[]> => artifacts.artifacts(this.ctx, buildId);

  /** SQLite cannot hear writers in other processes: wake up now and then to look (see notify.ts). */
  #cap(ms: number): number {
    return this.ctx.pg ? ms : Math.min(ms, SQLITE_WAKE_MS);
  }
}
