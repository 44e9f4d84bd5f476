/**
 * Recipe bundles on disk: `<artifacts>/recipes/<sha256>.tar`, in the folder every server of one
 * database shares (a build pushed to one server may be checked or fetched through another),
 * written once (temp file, fsync, rename), never changed, and unpacked into a throw-away folder
 * under this server's own `<data>/tmp` whenever a recipe must be read.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, open, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { packCanonical, type PackedBundle } from '../bundle/canonical.js';
import { unpackBundle } from '../bundle/unpack.js';

/** A stored bundle was checked when it was pushed; these only stop a corrupted file running away. */
const STORED_LIMITS = { maxUpload: 2 ** 40, maxUnpacked: 2 ** 40, maxEntries: 1_000_000 };

export class BundleFiles {
  readonly folder: string;
  readonly temp: string;

  /** `shared`: the artifact folder (build ids never collide with `recipes`); `dataDir`: this server's. */
  constructor(shared: string, dataDir: string) {
    this.folder = join(shared, 'recipes');
    this.temp = join(dataDir, 'tmp');
  }

  /** Leftovers of a server killed mid-request are removed: tmp/ is this server's alone. */
  async init(): Promise<void> {
    await rm(this.temp, { recursive: true, force: true });
    await mkdir(this.folder, { recursive: true });
    await mkdir(this.temp, { recursive: true });
  }

  path(hash: string): string {
    return join(this.folder, `${hash}.tar`);
  }

  /** Runs `fn` with a new empty folder that is removed afterwards, whatever happens. */
  async withTemp<T>(fn: (dir: string) => Promise<T>): Promise<T> {
    const dir = await mkdtemp(join(this.temp, 'bundle-'));
    try {
      return await fn(dir);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** Stores the canonical tar of `dir`; a bundle already stored under its hash is kept as it is. */
  async store(dir: string): Promise<PackedBundle> {
    const tmp = join(this.folder, `.tmp-${randomBytes(8).toString('hex')}.tar`);
    try {
      const packed = await packCanonical(dir, tmp);
      const handle = await open(tmp, 'r');
      await handle.sync().finally(() => handle.close());
      const final = this.path(packed.sha256);
      const exists = await stat(final).then(
        () => true,
        () => false,
      );
      if (!exists) await rename(tmp, final);
      return packed;
    } finally {
      await rm(tmp, { force: true });
    }
  }

  async extract(hash: string, dest: string): Promise<void> {
    await unpackBundle(createReadStream(this.path(hash)), dest, STORED_LIMITS);
  }
}
