/**
 * The tables as Kysely sees them. Both engines store the same columns: times as ISO 8601 text
 * (UTC, milliseconds; they sort as strings), lists and maps as JSON text, flags as 0/1 integers,
 * so one set of queries serves SQLite and PostgreSQL. Byte sizes are BIGINT, which node-postgres
 * returns as strings: read them through `toNumber`.
 */
import type { Kysely } from 'kysely';

/** A BIGINT column: written as a number, read as a number (SQLite) or a string (PostgreSQL). */
type BigIntColumn = number | string;

export interface MigrationsTable {
  version: number;
  name: string;
  applied_at: string;
}

export interface TokensTable {
  id: string;
  name: string;
  /** JSON array of scopes. */
  scopes: string;
  hash: string;
  created_at: string;
  last_used_at: string | null;
  revoked: number;
}

export interface RecipeVersionsTable {
  name: string;
  version: number;
  hash: string;
  file: string;
  files: number;
  size: BigIntColumn;
  created_at: string;
}

export interface BuildsTable {
  id: string;
  recipe: string;
  version: number;
  arch: string;
  /** JSON object of the build's variables (`set` is an SQL keyword). */
  set_json: string;
  state: string;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  /** The name of the worker running or that ran it. */
  worker: string | null;
  attempt: number;
  error: string | null;
  retry_of: string | null;
  cancel_requested: number;
  /** JSON array of StageProgress, kept up to date as events arrive (see stages.ts). */
  stages: string;
  /** The seq of the build's last event: the next one is last_seq + 1 (no gaps). */
  last_seq: number;
  /** The lease running it, while running. */
  lease_id: string | null;
}

export interface LeasesTable {
  id: string;
  build_id: string;
  worker_id: string;
  token_hash: string;
  created_at: string;
  last_event_n: number;
}

export interface EventsTable {
  build_id: string;
  seq: number;
  type: string;
  /** The event as JSON, without its seq. */
  data: string;
}

export interface WorkersTable {
  id: string;
  name: string;
  /** JSON array of arches. */
  arches: string;
  concurrency: number;
  state: string;
  version: string;
  registered_at: string;
  last_heartbeat: string;
}

export interface ArtifactsTable {
  build_id: string;
  name: string;
  size: BigIntColumn;
  sha256: string;
  path: string;
  created_at: string;
}

export interface Database {
  kiln_migrations: MigrationsTable;
  tokens: TokensTable;
  recipe_versions: RecipeVersionsTable;
  builds: BuildsTable;
  leases: LeasesTable;
  events: EventsTable;
  workers: WorkersTable;
  artifacts: ArtifactsTable;
}

export type Db = Kysely<Database>;

/** A BIGINT or COUNT as a JavaScript number (sizes stay far below 2^53). */
export function toNumber(value: number | string | bigint): number {
  return Number(value);
}

/**
 * Free text for a text column: PostgreSQL's text cannot hold NUL, and a build's error message can
 * quote any command output. (JSON columns are safe: JSON.stringify escapes NUL.)
 */
export function storableText(value: string): string {
  return value.replaceAll('\u0000', '\ufffd');
}
