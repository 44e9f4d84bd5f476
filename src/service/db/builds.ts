/** Builds: creating, reading, listing, cancelling, and the one way a build changes state. */
import { BUILD_STATES, FINAL_STATES, type Build, type BuildState } from '../protocol.js';
import { nowIso, type StoreContext, type Tx } from './context.js';
import { appendEvents, lockBuild, type BuildChanges } from './events.js';
import { newId } from './ids.js';
import { toNumber, type BuildsTable } from './schema.js';
import type { BuildFilter, NewBuild } from './service-store.js';
import type { StageProgress } from './stages.js';

export function toBuild(row: BuildsTable): Build {
  return {
    id: row.id,
    recipe: row.recipe,
    version: row.version,
    arch: row.arch as Build['arch'],
    set: JSON.parse(row.set_json) as Record<string, string>,
    state: row.state as BuildState,
    createdAt: row.created_at,
    ...(row.started_at ? { startedAt: row.started_at } : {}),
    ...(row.finished_at ? { finishedAt: row.finished_at } : {}),
    ...(row.worker ? { worker: row.worker } : {}),
    attempt: row.attempt,
    ...(row.error ? { error: row.error } : {}),
    ...(row.retry_of ? { retryOf: row.retry_of } : {}),
    stages: JSON.parse(row.stages) as StageProgress[],
  };
}

/**
 * Moves a build (locked by `t`) to a new state and appends the `state` event that tells streams
 * so, in the same transaction: a watcher sees every state change exactly once, in order.
 */
export async function changeState(
  t: Tx,
  build: BuildsTable,
  changes: BuildChanges & { state: BuildState },
  now: string,
): Promise<BuildsTable> {
  const row = { ...build, ...changes };
  const event = {
    type: 'state' as const,
    time: now,
    state: changes.state,
    ...(row.worker ? { worker: row.worker } : {}),
    ...(row.error ? { error: row.error } : {}),
  };
  return (await appendEvents(t, build, [event], changes)).build;
}

export async function createBuild(ctx: StoreContext, b: NewBuild): Promise<Build> {
  return ctx.tx(async (t) => {
    const now = nowIso();
    const row: BuildsTable = {
      id: newId(),
      recipe: b.recipe,
      version: b.version,
      arch: b.arch,
      set_json: JSON.stringify(b.set),
      state: 'queued',
      created_at: now,
      started_at: null,
      finished_at: null,
      worker: null,
      attempt: 0,
      error: null,
      retry_of: b.retryOf ?? null,
      cancel_requested: 0,
      stages: '[]',
      last_seq: 0,
      lease_id: null,
    };
    await t.db.insertInto('builds').values(row).execute();
    const { build } = await appendEvents(t, row, [{ type: 'state', time: now, state: 'queued' }]);
    await t.notify('work', row.id);
    return toBuild(build);
  });
}

export async function getBuild(ctx: StoreContext, id: string): Promise<Build | undefined> {
  const row = await ctx.db.selectFrom('builds').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toBuild(row);
}

/** Newest first; `before` continues a list after its last id. */
export async function listBuilds(ctx: StoreContext, f: BuildFilter): Promise<Build[]> {
  const rows = await ctx.db
    .selectFrom('builds')
    .selectAll()
    .$if(f.state !== undefined, (q) => q.where('state', '=', f.state ?? ''))
    .$if(f.recipe !== undefined, (q) => q.where('recipe', '=', f.recipe ?? ''))
    .$if(f.before !== undefined, (q) => q.where('id', '<', f.before ?? ''))
    .orderBy('id', 'desc')
    .limit(f.limit)
    .execute();
  return rows.map(toBuild);
}

export async function countBuildsByState(ctx: StoreContext): Promise<Record<BuildState, number>> {
  const rows = await ctx.db
    .selectFrom('builds')
    .select((e) => ['state', e.fn.countAll().as('n')])
    .groupBy('state')
    .execute();
  const counts = Object.fromEntries(BUILD_STATES.map((s) => [s, 0])) as Record<BuildState, number>;
  for (const r of rows) if (r.state in counts) counts[r.state as BuildState] = toNumber(r.n);
  return counts;
}

export async function requestCancel(ctx: StoreContext, id: string): Promise<'canceled' | 'requested' | 'final' | 'missing'> {
  return ctx.tx(async (t) => {
    const build = await lockBuild(t, id);
    if (!build) return 'missing';
    if (FINAL_STATES.includes(build.state as BuildState)) return 'final';
    if (build.state === 'queued') {
      const now = nowIso();
      await changeState(t, build, { state: 'canceled', finished_at: now, error: 'canceled before it started' }, now);
      return 'canceled';
    }
    // Running: the worker learns it from its next heartbeat, stops, and finishes the lease.
    await t.db.updateTable('builds').set({ cancel_requested: 1 }).where('id', '=', id).execute();
    return 'requested';
  });
}

export async function cancelRequested(ctx: StoreContext, buildId: string): Promise<boolean> {
  const row = await ctx.db.selectFrom('builds').select('cancel_requested').where('id', '=', buildId).executeTakeFirst();
  return (row?.cancel_requested ?? 0) !== 0;
}

