/**
 * kiln.lock: the exact packages a build installed (name, version, architecture and the sha256 of
 * each .deb), with the distribution and mirror they came from. Every build writes one;
 * `kiln build RECIPE --lock kiln.lock` installs exactly those versions again.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { UserError } from '../errors.js';

export const LockedDeb = z.strictObject({
  name: z.string(),
  version: z.string(),
  arch: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** apt installed it only as a dependency (apt-mark auto): a build from the lock marks it so again. */
  auto: z.literal(true).optional(),
  /**
   * The package set whose stage installed it ("base", "layer NAME", "recipe"): a build from the
   * lock installs each package in the same stage again, so the tree is the same. Absent in locks
   * older than package sets: those packages all go into the base.
   */
  set: z.string().optional(),
});
export type LockedDeb = z.infer<typeof LockedDeb>;

export const LockFile = z.strictObject({
  kilnLock: z.literal(1),
  distro: z.strictObject({ name: z.string(), release: z.string(), mirror: z.string() }),
  arch: z.string(),
  /** The build's SOURCE_DATE_EPOCH: a build from this lock clamps its timestamps to the same time. */
  sourceDateEpoch: z.number().int().nonnegative().optional(),
  packages: z.array(LockedDeb),
});
export type LockFile = z.infer<typeof LockFile>;

/** `zstd_1.5.4+dfsg2-5_amd64.deb`, `systemd_1%3a252-1_amd64.deb` (apt writes an epoch's colon as %3a). */
export function debOfFileName(file: string): Omit<LockedDeb, 'sha256'> | undefined {
  const m = /^([^_]+)_([^_]+)_([^_]+)\.deb$/.exec(file);
  return m ? { name: m[1] ?? '', version: (m[2] ?? '').replace(/%3a/gi, ':'), arch: m[3] ?? '' } : undefined;
}

export function lockText(lock: LockFile): string {
  const sorted = { ...lock, packages: [...lock.packages].sort((a, b) => (a.name === b.name ? (a.arch < b.arch ? -1 : 1) : a.name < b.name ? -1 : 1)) };
  return `${JSON.stringify(sorted, null, 2)}\n`;
}

export function readLock(file: string): LockFile {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UserError(`--lock ${file}: ${err instanceof SyntaxError ? `not JSON (${err.message})` : 'cannot be read'}; give the kiln.lock a build wrote`);
  }
  const parsed = LockFile.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UserError(`--lock ${file}: ${issue ? `${issue.path.join('.') || '(top)'}: ${issue.message}` : 'not a kiln.lock'}; give the kiln.lock a build wrote`);
  }
  return parsed.data;
}

/** The packages whose .deb differs from the lock (same name, version and arch, other bytes) or that the lock has but the build did not install. */
export function lockMismatches(lock: LockFile, built: readonly LockedDeb[]): string[] {
  const got = new Map(built.map((d) => [`${d.name}_${d.version}_${d.arch}`, d.sha256]));
  return lock.packages.flatMap((d) => {
    const sha = got.get(`${d.name}_${d.version}_${d.arch}`);
    if (sha === undefined) return [`${d.name} ${d.version} (${d.arch}) was not installed`];
    return sha === d.sha256 ? [] : [`${d.name} ${d.version} (${d.arch}) has sha256 ${sha.slice(0, 12)}…, the lock says ${d.sha256.slice(0, 12)}…`];
  });
}
