/**
 * A build's event log: numbered per build 1, 2, 3, ... without gaps (the SSE `id`, so a client
 * resumes exactly after the last event it saw). The counter lives in the builds row, which the
 * appending transaction holds (row lock on PostgreSQL, the write lock on SQLite), so concurrent
 * appenders never take the same number.
 */
import { sql } from 'kysely';
import type { BuildStreamEvent } from '../protocol.js';
import type { StoreContext, Tx } from './context.js';
import type { BuildsTable, EventsTable } from './schema.js';
import type { NewBuildEvent } from './service-store.js';
import { applyStageEvent, type StageProgress } from './stages.js';

/** Reads a build for changing it: on PostgreSQL the row stays locked until the transaction ends. */
export function lockBuild(t: Tx, id: string): Promise<BuildsTable | undefined> {
  return t.db
    .selectFrom('builds')
    .selectAll()
    .where('id', '=', id)
    .$if(t.pg, (q) => q.forUpdate())
    .executeTakeFirst();
}

/** Columns a caller changes together with appending (one UPDATE of the builds row for both). */
export type BuildChanges = Partial<Omit<BuildsTable, 'id' | 'last_seq'>>;

/**
 * Appends events to a build that `t` has locked (`build` is its row as the transaction sees it),
 * updating its stage progress and event counter, and applying `changes` in the same UPDATE.
 * Returns the row as now stored and the events.
 */
export async function appendEvents(
  t: Tx,
  locked: BuildsTable,
  events: NewBuildEvent[],
  changes: BuildChanges = {},
): Promise<{ build: BuildsTable; events: BuildStreamEvent[] }> {
  const build = { ...locked, ...changes };
  let stages = JSON.parse(build.stages) as StageProgress[];
  let stagesChanged = false;
  const stored: BuildStreamEvent[] = [];
  const rows: EventsTable[] = [];
  let seq = build.last_seq;
  for (const e of events) {
    seq += 1;
    const next = applyStageEvent(stages, e);
    if (next) {
      stages = next;
      stagesChanged = true;
    }
    stored.push({ ...e, seq });
    rows.push({ build_id: build.id, seq, type: e.type, data: JSON.stringify(e) });
  }
  const updated: BuildsTable = { ...build, last_seq: seq, ...(stagesChanged ? { stages: JSON.stringify(stages) } : {}) };
  await t.db
    .updateTable('builds')
    .set({ ...changes, last_seq: updated.last_seq, stages: updated.stages })
    .where('id', '=', build.id)
    .execute();
  if (rows.length > 0) {
    await insertEvents(t, rows);
    await t.notify('events', build.id);
  }
  return { build: updated, events: stored };
}

/**
 * One INSERT per batch with the rows bound as arrays (PostgreSQL: UNNEST of four arrays; SQLite:
 * json_each of one JSON array): a 5,000-line batch of log is one short statement with a few bound
 * parameters, not 20,000 of them (PostgreSQL allows 65,535 per statement, SQLite 32,766).
 */
async function insertEvents(t: Tx, rows: EventsTable[]): Promise<void> {
  if (t.pg) {
    await sql`INSERT INTO events (build_id, seq, type, data)
      SELECT * FROM UNNEST(${rows.map((r) => r.build_id)}::text[], ${rows.map((r) => r.seq)}::integer[], ${rows.map((r) => r.type)}::text[], ${rows.map((r) => r.data)}::text[])`.execute(t.db);
  } else {
    await sql`INSERT INTO events (build_id, seq, type, data)
      SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'), json_extract(value, '$[3]')
      FROM json_each(${JSON.stringify(rows.map((r) => [r.build_id, r.seq, r.type, r.data]))})`.execute(t.db);
  }
}

export async function readEvents(ctx: StoreContext, buildId: string, after: number, limit: number): Promise<BuildStreamEvent[]> {
  const rows = await ctx.db
    .selectFrom('events')
    .select(['seq', 'data'])
    .where('build_id', '=', buildId)
    .where('seq', '>', after)
    .orderBy('seq')
    .limit(limit)
    .execute();
  // Written by appendEvents from typed events: parsing again with zod would cost more than the query.
  return rows.map((r) => ({ ...(JSON.parse(r.data) as NewBuildEvent), seq: r.seq }));
}

export async function appendEvent(ctx: StoreContext, buildId: string, e: NewBuildEvent): Promise<BuildStreamEvent> {
  return ctx.tx(async (t) => {
    const build = await lockBuild(t, buildId);
    if (!build) throw new Error(`appendEvent: no build ${buildId}`);
    const { events } = await appendEvents(t, build, [e]);
    return events[0] as BuildStreamEvent;
  });
}
