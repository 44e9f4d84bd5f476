/** Recipe versions: content-addressed per name, numbered 1, 2, ... in push order. */
import { sql } from 'kysely';
import type { RecipeVersion } from '../protocol.js';
import { nowIso, type StoreContext } from './context.js';
import { storableText, toNumber, type RecipeVersionsTable } from './schema.js';

function toVersion(row: RecipeVersionsTable): RecipeVersion {
  return { name: row.name, version: row.version, hash: row.hash, file: row.file, files: row.files, size: toNumber(row.size), createdAt: row.created_at };
}

export async function addRecipeVersion(
  ctx: StoreContext,
  v: Omit<RecipeVersion, 'version' | 'createdAt'>,
): Promise<{ version: RecipeVersion; created: boolean }> {
  return ctx.tx(async (t) => {
    // Two servers pushing the same name at once would both pick max + 1: serialize per name.
    if (t.pg) await sql`SELECT pg_advisory_xact_lock(hashtext(${`kiln-recipe:${v.name}`}))`.execute(t.db);
    const existing = await t.db.selectFrom('recipe_versions').selectAll().where('name', '=', v.name).where('hash', '=', v.hash).executeTakeFirst();
    if (existing) return { version: toVersion(existing), created: false };
    const last = await t.db.selectFrom('recipe_versions').select((e) => e.fn.max('version').as('v')).where('name', '=', v.name).executeTakeFirst();
    const row: RecipeVersionsTable = {
      name: v.name,
      version: (last?.v == null ? 0 : Number(last.v)) + 1,
      hash: v.hash,
      file: storableText(v.file),
      files: v.files,
      size: v.size,
      created_at: nowIso(),
    };
    await t.db.insertInto('recipe_versions').values(row).execute();
    return { version: toVersion(row), created: true };
  });
}

export async function recipeVersions(ctx: StoreContext, name: string): Promise<RecipeVersion[]> {
  return (await ctx.db.selectFrom('recipe_versions').selectAll().where('name', '=', name).orderBy('version').execute()).map(toVersion);
}

/** One version, or the latest when `version` is not given. */
export async function recipeVersion(ctx: StoreContext, name: string, version?: number): Promise<RecipeVersion | undefined> {
  const row = await ctx.db
    .selectFrom('recipe_versions')
    .selectAll()
    .where('name', '=', name)
    .$if(version !== undefined, (q) => q.where('version', '=', version ?? 0))
    .orderBy('version', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row && toVersion(row);
}

export async function listRecipes(ctx: StoreContext): Promise<{ name: string; latest: number; versions: number; updatedAt: string }[]> {
  const rows = await ctx.db
    .selectFrom('recipe_versions')
    .select((e) => ['name', e.fn.max('version').as('latest'), e.fn.countAll().as('versions'), e.fn.max('created_at').as('updatedAt')])
    .groupBy('name')
    .orderBy('name')
    .execute();
  return rows.map((r) => ({ name: r.name, latest: Number(r.latest), versions: toNumber(r.versions), updatedAt: r.updatedAt }));
}
