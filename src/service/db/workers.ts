/** Workers: registration (a name registered again means that machine restarted), heartbeats, lists. */
import type { Build, WorkerState } from '../protocol.js';
import { nowIso, type StoreContext } from './context.js';
import { newId } from './ids.js';
import { releaseLeases } from './queue.js';
import { storableText, type LeasesTable, type WorkersTable } from './schema.js';
import type { Lease, StoredWorker } from './service-store.js';

function toWorker(row: WorkersTable): StoredWorker {
  return {
    id: row.id,
    name: row.name,
    arches: JSON.parse(row.arches) as string[],
    concurrency: row.concurrency,
    state: row.state as WorkerState,
    version: row.version,
    registeredAt: row.registered_at,
    lastHeartbeat: row.last_heartbeat,
  };
}

function toLease(row: LeasesTable): Lease {
  return { id: row.id, buildId: row.build_id, workerId: row.worker_id, tokenHash: row.token_hash, createdAt: row.created_at, lastEventN: row.last_event_n };
}

/**
 * A new worker id. Earlier workers of the same name are marked lost and their builds requeued at
 * once (the machine restarted: whatever it ran is gone), without waiting for the heartbeat timeout.
 */
export async function registerWorker(
  ctx: StoreContext,
  w: Omit<StoredWorker, 'id' | 'state' | 'registeredAt' | 'lastHeartbeat'>,
): Promise<{ worker: StoredWorker; requeued: Build[] }> {
  return ctx.tx(async (t) => {
    const now = nowIso();
    const earlier = await t.db
      .selectFrom('workers')
      .selectAll()
      .where('name', '=', storableText(w.name))
      .where('state', '!=', 'lost')
      .orderBy('id')
      .$if(t.pg, (q) => q.forUpdate())
      .execute();
    const requeued: Build[] = [];
    for (const old of earlier) {
      await t.db.updateTable('workers').set({ state: 'lost' }).where('id', '=', old.id).execute();
      requeued.push(...(await releaseLeases(t, old.id, ctx.maxRetries, now)));
    }
    const row: WorkersTable = {
      id: newId(),
      name: storableText(w.name),
      arches: JSON.stringify(w.arches),
      concurrency: w.concurrency,
      state: 'idle',
      version: storableText(w.version),
      registered_at: now,
      last_heartbeat: now,
    };
    await t.db.insertInto('workers').values(row).execute();
    return { worker: toWorker(row), requeued };
  });
}

/**
 * Records a heartbeat. A worker marked lost comes back with it (its old leases stay gone), unless
 * the same name registered again since: then undefined, and that process should stop.
 */
export async function heartbeat(ctx: StoreContext, workerId: string, state: WorkerState, at: string): Promise<StoredWorker | undefined> {
  return ctx.tx(async (t) => {
    const row = await t.db
      .selectFrom('workers')
      .selectAll()
      .where('id', '=', workerId)
      .$if(t.pg, (q) => q.forUpdate())
      .executeTakeFirst();
    if (!row) return undefined;
    if (row.state === 'lost') {
      const newer = await t.db.selectFrom('workers').select('id').where('name', '=', row.name).where('id', '>', row.id).limit(1).executeTakeFirst();
      if (newer) return undefined;
    }
    await t.db.updateTable('workers').set({ state, last_heartbeat: at }).where('id', '=', workerId).execute();
    return toWorker({ ...row, state, last_heartbeat: at });
  });
}

export async function listWorkers(ctx: StoreContext): Promise<(StoredWorker & { builds: string[] })[]> {
  const [workers, leases] = await Promise.all([
    ctx.db.selectFrom('workers').selectAll().orderBy('id').execute(),
    ctx.db.selectFrom('leases').select(['worker_id', 'build_id']).orderBy('id').execute(),
  ]);
  return workers.map((w) => ({ ...toWorker(w), builds: leases.filter((l) => l.worker_id === w.id).map((l) => l.build_id) }));
}

export async function workerLeases(ctx: StoreContext, workerId: string): Promise<Lease[]> {
  return (await ctx.db.selectFrom('leases').selectAll().where('worker_id', '=', workerId).orderBy('id').execute()).map(toLease);
}
