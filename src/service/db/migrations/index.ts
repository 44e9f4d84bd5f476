/**
 * Schema migrations, in order. Append a new file (`002-<what>.ts`) for every change; never edit one
 * that has shipped, since databases in the field already ran it.
 */
import { initial } from './001-initial.js';
import type { Migration } from './migration.js';

export type { Migration } from './migration.js';

export const MIGRATIONS: readonly Migration[] = [initial];
