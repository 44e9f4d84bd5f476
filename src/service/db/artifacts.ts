/** Artifacts, listed once the caller has stored the file and checked its sha256. */
import { nowIso, type StoreContext } from './context.js';
import { storableText, toNumber, type ArtifactsTable } from './schema.js';
import type { ArtifactRow } from './service-store.js';

function toArtifact(row: ArtifactsTable): ArtifactRow {
  return { buildId: row.build_id, name: row.name, size: toNumber(row.size), sha256: row.sha256, path: row.path, createdAt: row.created_at };
}

/** Adds or replaces (a retried attempt uploads the same names again) one artifact. */
export async function addArtifact(ctx: StoreContext, a: ArtifactRow): Promise<void> {
  const row: ArtifactsTable = { build_id: a.buildId, name: storableText(a.name), size: a.size, sha256: a.sha256, path: storableText(a.path), created_at: a.createdAt || nowIso() };
  await ctx.tx((t) =>
    t.db
      .insertInto('artifacts')
      .values(row)
      .onConflict((oc) => oc.columns(['build_id', 'name']).doUpdateSet({ size: row.size, sha256: row.sha256, path: row.path, created_at: row.created_at }))
      .execute(),
  );
}

export async function artifacts(ctx: StoreContext, buildId: string): Promise<ArtifactRow[]> {
  return (await ctx.db.selectFrom('artifacts').selectAll().where('build_id', '=', buildId).orderBy('name').execute()).map(toArtifact);
}
