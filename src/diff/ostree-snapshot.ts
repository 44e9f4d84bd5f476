/**
 * A snapshot (see compare.ts) of an OSTree commit, read from its repository without checking it
 * out: every file from `ostree ls -R -C` (type, mode, owner, size, and OSTree's object checksum
 * for content, which also covers owner, mode and extended attributes), and the packages from the
 * dpkg database kiln keeps in the commit's /var seed. OSTree stores no file times.
 */
import { execa } from 'execa';
import { UserError } from '../errors.js';
import { VAR_SEED } from '../outputs/ostree-layout.js';
import { parseStatus } from '../sbom/dpkg.js';
import type { FileEntry, Snapshot } from './compare.js';

const LINE = /^([-dl])([0-7]{5}) (\d+) (\d+)\s+(\d+) ([0-9a-f]{64})(?: [0-9a-f]{64})? (\/.*)$/;
const TYPES = { '-': 'file', d: 'dir', l: 'symlink' } as const;

/** `ostree ls -R -C` output: one entry per line, "PATH -> TARGET" for a link. */
export function parseOstreeLs(text: string): Map<string, FileEntry> {
  const files = new Map<string, FileEntry>();
  for (const line of text.split('\n')) {
    const m = LINE.exec(line);
    if (!m) continue;
    const [, kind = '-', mode = '0', uid = '0', gid = '0', size = '0', checksum = '', rest = ''] = m;
    const type = TYPES[kind as keyof typeof TYPES];
    const arrow = type === 'symlink' ? rest.indexOf(' -> ') : -1;
    const path = arrow >= 0 ? rest.slice(0, arrow) : rest;
    const entry: FileEntry = { type, mode: parseInt(mode, 8) & 0o7777, uid: Number(uid), gid: Number(gid), size: type === 'file' ? Number(size) : 0, mtime: 0 };
    // A folder's own checksum changes with anything below it: its entries say what changed.
    if (type === 'file') entry.sha256 = checksum;
    if (arrow >= 0) entry.target = rest.slice(arrow + 4);
    files.set(path, entry);
  }
  return files;
}

/** The commit `rev` names (a checksum, a ref, REF^...) in the archive repository `repo`. */
export async function ostreeSnapshot(repo: string, rev: string): Promise<Snapshot> {
  const parsed = await execa('ostree', ['rev-parse', `--repo=${repo}`, rev], { reject: false });
  if (parsed.exitCode !== 0) throw new UserError(`--ostree ${repo}: no commit ${rev} (${parsed.stderr.trim().replace(/^error: /, '')}); give a commit checksum, a ref, or REF^ for its parent`);
  const commit = parsed.stdout.trim();
  const ls = await execa('ostree', ['ls', '-R', '-C', `--repo=${repo}`, commit, '/'], { maxBuffer: 1 << 30 });
  const status = await execa('ostree', ['cat', `--repo=${repo}`, commit, `${VAR_SEED}/lib/dpkg/status`], { reject: false, maxBuffer: 1 << 28 });
  const packages = status.exitCode === 0 ? parseStatus(status.stdout).map(({ name, version, arch }) => ({ name, version, arch })) : [];
  return { source: `${repo}@${commit}`, regions: [], packages, files: parseOstreeLs(ls.stdout), unread: [] };
}
