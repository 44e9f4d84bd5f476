/**
 * Publishing a commit into the recipe's repository: the repository devices pull from. The build's
 * commit (in its own one-commit archive repository, `<name>.ostree.tar`) is pulled in, a static
 * delta from the parent lets devices fetch only what changed in one request, and then the ref
 * moves and the summary is made anew (without it, clients keep seeing the old ref).
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { BuildError } from '../errors.js';
import type { Exec } from '../host/exec.js';
import { lock } from '../host/lock.js';
import { openSigningKey } from '../host/signing-key.js';
import { refHead } from './ostree-ref.js';

export interface PublishedCommit {
  repo: string;
  ref: string;
  commit: string;
  parent: string | null;
  /** The static delta from the parent, by its name in `ostree static-delta list`; null without a parent. */
  delta: string | null;
  /** The fingerprint of the key that signed the commit and the summary; null: unsigned. */
  signedBy: string | null;
}

/**
 * Adds `commit` (from the tar at `tar`) to `repo` on `ref`. The ref must still be at `parent`, the
 * commit the build was planned on: another build that moved it since would otherwise be lost from
 * the ref's history.
 */
export async function publishCommit(exec: Exec, o: { tar: string; repo: string; ref: string; commit: string; parent: string | null; signedBy: string | null; key?: string; scratch: string; signal?: AbortSignal }): Promise<PublishedCommit> {
  await mkdir(o.repo, { recursive: true });
  // One publisher at a time per repository: the ref check, the ref's move and the summary go together.
  const held = await lock(join(o.repo, '.kiln-publish.lock'), o.signal ? { signal: o.signal } : {});
  try {
    if (!existsSync(join(o.repo, 'config'))) await exec('ostree', ['init', `--repo=${o.repo}`, '--mode=archive']);
    const head = refHead(o.repo, o.ref);
    if (head !== o.parent && head !== o.commit) {
      throw new BuildError(`${o.ref} in ${o.repo} moved to ${head ?? 'nothing'} after this build was planned on ${o.parent ?? 'no commit'}; build again to commit on top of it`, 'publish');
    }
    const unpacked = await mkdtemp(join(o.scratch, 'commit-'));
    try {
      await exec('tar', ['--extract', '--file', o.tar, '--directory', unpacked]);
      // By checksum: the ref moves only once the objects and the delta are in place.
      await exec('ostree', ['pull-local', `--repo=${o.repo}`, unpacked, o.commit]);
    } finally {
      await rm(unpacked, { recursive: true, force: true });
    }
    let delta: string | null = null;
    if (o.parent) {
      await exec('ostree', ['static-delta', 'generate', `--repo=${o.repo}`, `--from=${o.parent}`, `--to=${o.commit}`]);
      delta = `${o.parent}-${o.commit}`;
    }
    await exec('ostree', ['refs', `--repo=${o.repo}`, '--force', `--create=${o.ref}`, o.commit]);
    await updateSummary(exec, o.repo, o.key);
    return { repo: o.repo, ref: o.ref, commit: o.commit, parent: o.parent, delta, signedBy: o.signedBy };
  } finally {
    await held.release();
  }
}

/** A new summary, signed with the key that signed the commit: a device that verifies summaries reads refs only from a signed one. */
export async function updateSummary(exec: Exec, repo: string, keyFile: string | undefined): Promise<void> {
  const key = keyFile === undefined ? undefined : openSigningKey(keyFile);
  if (key && 'problem' in key) throw new BuildError(`ostree.sign.key ${keyFile ?? ''} ${key.problem}`, 'publish');
  try {
    await exec('ostree', ['summary', '--update', `--repo=${repo}`, ...(key ? [`--gpg-sign=${key.home.fingerprint}`, `--gpg-homedir=${key.home.homedir}`] : [])]);
  } finally {
    key?.home.remove();
  }
}
