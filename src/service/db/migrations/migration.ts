/** One schema change: what every file in this folder exports. */
import type { Db } from '../schema.js';

export interface Migration {
  version: number;
  name: string;
  /** Runs inside the transaction that records the version, so it applies wholly or not at all. */
  up(db: Db, pg: boolean): Promise<void>;
}
