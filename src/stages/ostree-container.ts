/**
 * The commit as a container that serves it over HTTP (osbuild's edge-container): an OCI image of
 * two layers, Debian's busybox-static (its httpd, for the recipe's architecture and release) and
 * the build's archive repository with its ref and a summary, at /srv/ostree/repo. `podman run -p
 * 8080:8080 IMAGE` serves http://HOST:8080/repo, for devices to pull from or a mirror to pull into.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { writeDockerArchiveTree, writeOciLayout } from '../outputs/oci.js';
import { updateSummary } from '../outputs/ostree-repo.js';
import { collectPackages, packageCacheArgs } from '../store/package-cache.js';
import { explainApt } from './apt-sources.js';
import { defineStage, originFolder, sourceDateEpoch, type StageContext } from './define.js';

const Options = z.strictObject({
  name: z.string(),
  release: z.string(),
  mirror: z.string(),
  arch: z.string(),
  /** ostree.sign: the key file (relative to the recipe) and its sha256; the summary is signed with it. */
  sign: z.strictObject({ key: z.string(), sha256: z.string() }).nullable(),
});

/** The port the container listens on; devices' remotes name it (http://HOST:8080/repo). */
export const REPO_PORT = 8080;

export const ostreeContainer = defineStage({
  name: 'ostree-container',
  version: 1,
  kind: 'image',
  summary: "Writes the commit as an OCI image (and a docker-archive) that serves its repository over HTTP on port 8080 at /repo: Debian's busybox-static httpd in one layer, the archive repository with its ref and a summary in the other.",
  options: Options,
  makes: ['outputs'],
  async run(ctx, o) {
    const repo = join(ctx.scratch, 'repo');
    const busybox = await serverLayer(ctx, o, join(ctx.scratch, 'server.tar'));
    await mkdir(join(repo, 'srv/ostree/repo'), { recursive: true });
    await ctx.exec('tar', ['--extract', '--file', join(ctx.work, `${o.name}.ostree.tar`), '--directory', join(repo, 'srv/ostree/repo')]);
    // Without a summary a device's pull finds no ref where summaries are verified (a signed remote).
    await updateSummary(ctx.exec, join(repo, 'srv/ostree/repo'), o.sign === null ? undefined : join(originFolder(ctx, 'recipe'), o.sign.key));
    await packTree(ctx, repo, join(ctx.scratch, 'repo.tar'));
    const layers = [join(ctx.scratch, 'server.tar'), join(ctx.scratch, 'repo.tar')];
    const created = new Date((sourceDateEpoch(ctx) ?? 0) * 1000).toISOString().replace(/\.000Z$/, 'Z');
    const oci = `${o.name}-repo.oci`;
    const digests = await writeOciLayout(join(ctx.work, oci), layers, {
      name: `${o.name}-repo`,
      arch: o.arch,
      created,
      // The port is the command, so `podman run IMAGE -p 127.0.0.1:9000` moves it.
      run: { entrypoint: [busybox, 'httpd', '-f', '-v', '-h', '/srv/ostree'], cmd: ['-p', String(REPO_PORT)], ports: [`${REPO_PORT}/tcp`] },
      labels: { 'org.opencontainers.image.title': `${o.name} OSTree repository`, 'org.opencontainers.image.description': `Serves the OSTree repository of ${o.name} at http://HOST:${REPO_PORT}/repo` },
    });
    const tree = join(ctx.scratch, 'docker-archive');
    const members = await writeDockerArchiveTree(tree, layers, `${o.name}-repo`, digests);
    const archive = `${o.name}-repo.docker.tar`;
    await ctx.exec('tar', ['--create', '--file', join(ctx.work, archive), '--directory', tree, '--format=posix', '--numeric-owner', '--owner=0', '--group=0', '--mtime=@0', ...members]);
    ctx.log(`ostree-container: ${oci} serves the commit at http://HOST:${REPO_PORT}/repo (${busybox} httpd)`);
    return { outputs: [...(ctx.facts.outputs ?? []), { file: oci, format: 'ostree-container' }, { file: archive, format: 'docker-archive' }] };
  },
});

/**
 * busybox-static's files, unpacked for the recipe's architecture (mmdebstrap's extract variant runs
 * nothing, so no emulator is needed) from the package cache, as a tar. Returns busybox's path:
 * /bin in bookworm, /usr/bin from trixie on.
 */
async function serverLayer(ctx: StageContext, o: z.output<typeof Options>, tar: string): Promise<string> {
  const tree = join(ctx.scratch, 'server');
  const collected = join(ctx.scratch, 'debs');
  await mkdir(collected);
  await mkdir(ctx.packageCache, { recursive: true });
  try {
    await ctx.exec('mmdebstrap', ['--mode=root', '--variant=extract', `--architectures=${o.arch}`, '--include=busybox-static', ...packageCacheArgs(ctx.packageCache, o.arch, collected), o.release, tree, o.mirror]);
  } catch (err) {
    throw explainApt(err, o.release);
  }
  await collectPackages(collected, ctx.packageCache, new Set());
  const busybox = ['/usr/bin/busybox', '/bin/busybox'].find((p) => existsSync(join(tree, p)));
  if (!busybox) throw new Error(`busybox-static of ${o.release} put no busybox in /usr/bin or /bin`);
  // What extract leaves in /etc is the host's (resolv.conf, hostname): a runtime provides its own.
  await packTree(ctx, tree, tar, ['./etc/*', './var/*']);
  return busybox;
}

/** A layer: POSIX tar, sorted, numeric owners, one time; /dev's nodes stay out (runtimes make them). */
async function packTree(ctx: StageContext, dir: string, tar: string, exclude: string[] = []): Promise<void> {
  const epoch = sourceDateEpoch(ctx) ?? 0;
  await ctx.exec('tar', ['--create', '--file', tar, '--directory', dir, '--format=posix', '--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime', '--sort=name', '--numeric-owner', `--mtime=@${epoch}`, '--exclude=./dev/*', ...exclude.map((e) => `--exclude=${e}`), '.']);
}
