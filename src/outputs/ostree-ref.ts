/**
 * The loader that gives an OSTree commit its parent when a build is planned: the ref's commit in
 * the recipe's archive repository (refs are plain files there), which enters the stage's id.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The ref's commit in an archive repository, or null when the repository or the ref does not exist yet. */
export function refHead(repo: string, ref: string): string | null {
  const file = join(repo, 'refs', 'heads', ...ref.split('/'));
  return existsSync(file) && statSync(file).isFile() ? readFileSync(file, 'utf8').trim() : null;
}
