/**
 * The job queue: claiming a queued build with a lease, reporting under the lease, finishing it, and
 * taking builds back from workers that went silent.
 *
 * Never the same build to two workers: on PostgreSQL the claim locks the oldest matching queued
 * row with FOR UPDATE SKIP LOCKED (a concurrent claimer skips it and takes the next; a row that
 * stopped being queued before the lock is re-checked and left out), on SQLite the whole claim runs
 * under the database's single write lock (BEGIN IMMEDIATE). The unique build_id of `leases` backs
 * both. Locks are always taken worker row first, then build row, so two transactions never wait
 * on each other in a circle.
 */
import type { Build, WorkerEvent } from '../protocol.js';
import { nowIso, type StoreContext, type Tx } from './context.js';
import { changeState, toBuild } from './builds.js';
import { appendEvents, lockBuild } from './events.js';
import { newId } from './ids.js';
import { storableText, type BuildsTable, type LeasesTable, type WorkersTable } from './schema.js';
import { LeaseLostError, type Lease, type NewBuildEvent } from './service-store.js';
import type { BuildStreamEvent } from '../protocol.js';

function toLease(row: LeasesTable): Lease {
  return { id: row.id, buildId: row.build_id, workerId: row.worker_id, tokenHash: row.token_hash, createdAt: row.created_at, lastEventN: row.last_event_n };
}

function lockWorker(t: Tx, id: string): Promise<WorkersTable | undefined> {
  return t.db
    .selectFrom('workers')
    .selectAll()
    .where('id', '=', id)
    .$if(t.pg, (q) => q.forUpdate())
    .executeTakeFirst();
}

/** A busy worker whose last lease ended is idle again (until its next heartbeat says otherwise). */
async function idleIfFree(t: Tx, workerId: string): Promise<void> {
  const left = await t.db.selectFrom('leases').select('id').where('worker_id', '=', workerId).limit(1).executeTakeFirst();
  if (!left) await t.db.updateTable('workers').set({ state: 'idle' }).where('id', '=', workerId).where('state', '=', 'busy').execute();
}

export async function claim(ctx: StoreContext, workerId: string, arches: string[], tokenHash: string): Promise<{ build: Build; lease: Lease } | undefined> {
  if (arches.length === 0) return undefined;
  return ctx.tx(async (t) => {
    const worker = await lockWorker(t, workerId);
    if (!worker || worker.state === 'lost' || worker.state === 'draining') return undefined;
    const held = await t.db.selectFrom('leases').select((e) => e.fn.countAll().as('n')).where('worker_id', '=', workerId).executeTakeFirstOrThrow();
    if (Number(held.n) >= worker.concurrency) return undefined;
    const build = await t.db
      .selectFrom('builds')
      .selectAll()
      .where('state', '=', 'queued')
      .where('arch', 'in', arches)
      .orderBy('id')
      .limit(1)
      .$if(t.pg, (q) => q.forUpdate().skipLocked())
      .executeTakeFirst();
    if (!build) return undefined;
    const now = nowIso();
    const lease: LeasesTable = { id: newId(), build_id: build.id, worker_id: workerId, token_hash: tokenHash, created_at: now, last_event_n: 0 };
    await t.db.insertInto('leases').values(lease).execute();
    const row = await changeState(t, build, { state: 'running', started_at: now, worker: worker.name, lease_id: lease.id, error: null }, now);
    if (worker.state === 'idle') await t.db.updateTable('workers').set({ state: 'busy' }).where('id', '=', workerId).execute();
    return { build: toBuild(row), lease: toLease(lease) };
  });
}

export async function lease(ctx: StoreContext, id: string): Promise<Lease | undefined> {
  const row = await ctx.db.selectFrom('leases').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toLease(row);
}

/** The lease and its build, locked; throws LeaseLostError when the lease no longer runs the build. */
async function lockLease(t: Tx, leaseId: string): Promise<{ lease: LeasesTable; build: BuildsTable }> {
  const first = await t.db.selectFrom('leases').select(['build_id', 'worker_id']).where('id', '=', leaseId).executeTakeFirst();
  if (!first) throw new LeaseLostError(leaseId);
  await lockWorker(t, first.worker_id);
  const build = await lockBuild(t, first.build_id);
  // Read the lease again under the locks: a concurrent finish or expiry may have ended it.
  const row = await t.db.selectFrom('leases').selectAll().where('id', '=', leaseId).executeTakeFirst();
  if (!build || !row || build.lease_id !== leaseId) throw new LeaseLostError(leaseId);
  return { lease: row, build };
}

export async function appendWorkerEvents(ctx: StoreContext, leaseId: string, events: WorkerEvent[]): Promise<BuildStreamEvent[]> {
  return ctx.tx(async (t) => {
    const { lease: row, build } = await lockLease(t, leaseId);
    const seen = new Set<number>();
    const fresh = [...events]
      .sort((a, b) => a.n - b.n)
      .filter((e) => e.n > row.last_event_n && !seen.has(e.n) && seen.add(e.n));
    if (fresh.length === 0) return [];
    await t.db
      .updateTable('leases')
      .set({ last_event_n: fresh[fresh.length - 1]?.n ?? row.last_event_n })
      .where('id', '=', leaseId)
      .execute();
    const stripped = fresh.map(({ n: _n, ...e }) => e as NewBuildEvent);
    return (await appendEvents(t, build, stripped)).events;
  });
}

export async function finishLease(ctx: StoreContext, leaseId: string, result: { ok: boolean; error?: string }): Promise<Build> {
  return ctx.tx(async (t) => {
    const { lease: row, build } = await lockLease(t, leaseId);
    const now = nowIso();
    const canceled = build.cancel_requested !== 0;
    await t.db.deleteFrom('leases').where('id', '=', leaseId).execute();
    const after = await changeState(
      t,
      build,
      {
        state: canceled ? 'canceled' : result.ok ? 'succeeded' : 'failed',
        finished_at: now,
        lease_id: null,
        error: canceled ? 'canceled while running' : result.ok ? null : storableText(result.error || 'the build failed (no reason given)'),
      },
      now,
    );
    await idleIfFree(t, row.worker_id);
    return toBuild(after);
  });
}

/**
 * Ends every lease of a worker that is gone (the caller has marked it lost): each build is queued
 * again with attempt + 1, or fails with "worker lost" once it used its retries, or ends canceled
 * if that was asked for meanwhile.
 */
export async function releaseLeases(t: Tx, workerId: string, maxRetries: number, now: string): Promise<Build[]> {
  const leases = await t.db.selectFrom('leases').selectAll().where('worker_id', '=', workerId).orderBy('id').execute();
  const touched: Build[] = [];
  for (const l of leases) {
    const build = await lockBuild(t, l.build_id);
    await t.db.deleteFrom('leases').where('id', '=', l.id).execute();
    if (!build || build.lease_id !== l.id) continue;
    let after: BuildsTable;
    if (build.cancel_requested !== 0) {
      after = await changeState(t, build, { state: 'canceled', finished_at: now, lease_id: null, error: 'canceled; its worker was lost' }, now);
    } else if (build.attempt >= maxRetries) {
      after = await changeState(t, build, { state: 'failed', finished_at: now, lease_id: null, error: 'worker lost' }, now);
    } else {
      after = await changeState(
        t,
        build,
        { state: 'queued', attempt: build.attempt + 1, worker: null, started_at: null, lease_id: null, error: null, stages: '[]' },
        now,
      );
      await t.notify('work', build.id);
    }
    touched.push(toBuild(after));
  }
  return touched;
}

export async function expireLeases(ctx: StoreContext, now: string, lostMs: number, maxRetries: number): Promise<Build[]> {
  const cutoff = new Date(Date.parse(now) - lostMs).toISOString();
  return ctx.tx(async (t) => {
    // SKIP LOCKED: a worker whose heartbeat is being written right now is alive; and two servers
    // expiring at once split the silent workers between them instead of waiting on each other.
    const silent = await t.db
      .selectFrom('workers')
      .selectAll()
      .where('state', '!=', 'lost')
      .where('last_heartbeat', '<', cutoff)
      .orderBy('id')
      .$if(t.pg, (q) => q.forUpdate().skipLocked())
      .execute();
    const touched: Build[] = [];
    for (const w of silent) {
      await t.db.updateTable('workers').set({ state: 'lost' }).where('id', '=', w.id).execute();
      touched.push(...(await releaseLeases(t, w.id, maxRetries, now)));
    }
    return touched;
  });
}
