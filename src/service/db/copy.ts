/**
 * Moving a service from one database to another (SQLite on one machine → PostgreSQL for several
 * servers): every table copied row for row. Both engines store the same columns in the same forms
 * (schema.ts), so a row read from one is a row for the other. The target must be empty and at the
 * same schema version; the copy is one transaction on the target, so a failure leaves it empty.
 */
import { UserError } from '../../errors.js';
import type { Db } from './schema.js';

/** Tables in an order that keeps every reference pointing at a row already copied, with their keys for paging. */
const TABLES = [
  ['tokens', ['id']],
  ['recipe_versions', ['name', 'version']],
  ['workers', ['id']],
  ['builds', ['id']],
  ['leases', ['id']],
  ['events', ['build_id', 'seq']],
  ['artifacts', ['build_id', 'name']],
] as const;

const PAGE = 500;

export async function copyTables(from: Db, to: Db, note: (line: string) => void): Promise<Record<string, number>> {
  for (const [table] of TABLES) {
    const { n } = await to.selectFrom(table).select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow();
    if (Number(n) > 0) throw new UserError(`the target database already has rows in ${table}: copy into a new, empty database`);
  }
  const counts: Record<string, number> = {};
  await to.transaction().execute(async (tx) => {
    for (const [table, keys] of TABLES) {
      let copied = 0;
      for (let offset = 0; ; offset += PAGE) {
        let query = from.selectFrom(table).selectAll();
        for (const key of keys) query = query.orderBy(key);
        const rows = await query.limit(PAGE).offset(offset).execute();
        if (rows.length === 0) break;
        await tx.insertInto(table).values(rows).execute();
        copied += rows.length;
      }
      counts[table] = copied;
      note(`${table}: ${copied} rows`);
    }
  });
  return counts;
}
