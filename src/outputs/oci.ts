/**
 * Container images from tars of trees: an OCI image layout directory (`skopeo copy oci:DIR ...`)
 * and a docker-archive tarball (`podman load -i`, `docker load -i`). Each layer is uncompressed, the
 * tar itself; every JSON document is written with sorted keys so the same tars give the same bytes.
 */
import { link, mkdir, stat, writeFile } from 'node:fs/promises';
import { ARCH_NAMES, archInfo } from '../arch/table.js';
import { join } from 'node:path';
import { sha256File } from '../host/sparse-hash.js';
import { canonicalJson, sha256 } from '../host/canonical.js';

export interface ImageConfig {
  name: string;
  /** Debian architecture; OCI uses the Go names (amd64, arm64, arm, 386). */
  arch: string;
  created: string;
  /** What the container runs; without one, a shell. */
  run?: { entrypoint: string[]; cmd: string[]; ports: string[] };
  /** Annotations of the manifest and labels of the image (org.opencontainers.image.*). */
  labels?: Record<string, string>;
}

export interface ImageDigests {
  layers: string[];
  config: string;
  configText: string;
}

const PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export function configJson(config: ImageConfig, layerDigests: string[]): string {
  const arch = (ARCH_NAMES as readonly string[]).includes(config.arch) ? archInfo(config.arch).oci : { architecture: config.arch };
  const run = config.run
    ? { Entrypoint: config.run.entrypoint, Cmd: config.run.cmd, ExposedPorts: Object.fromEntries(config.run.ports.map((p) => [p, {}])) }
    : { Cmd: ['/bin/sh'] };
  return canonicalJson({
    ...arch,
    os: 'linux',
    created: config.created,
    config: { ...run, Env: [PATH], ...(config.labels ? { Labels: config.labels } : {}) },
    rootfs: { type: 'layers', diff_ids: layerDigests.map((d) => `sha256:${d}`) },
    history: layerDigests.map(() => ({ created: config.created, created_by: `kiln build (${config.name})` })),
  });
}

/**
 * Writes `dir` as an OCI image layout holding `layerTars` (bottom first), and returns the digests
 * the docker archive reuses. The layers are hard-linked into the blobs, not copied.
 */
export async function writeOciLayout(dir: string, layerTars: string[], config: ImageConfig): Promise<ImageDigests> {
  const blobs = join(dir, 'blobs', 'sha256');
  await mkdir(blobs, { recursive: true });
  const layers: { digest: string; size: number }[] = [];
  for (const tar of layerTars) {
    const digest = await sha256File(tar);
    // Two identical layers are one blob.
    await link(tar, join(blobs, digest)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
    layers.push({ digest, size: (await stat(tar)).size });
  }
  const configText = configJson(config, layers.map((l) => l.digest));
  const configDigest = sha256(configText);
  await writeFile(join(blobs, configDigest), configText);
  const manifest = canonicalJson({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${configDigest}`, size: Buffer.byteLength(configText) },
    layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: `sha256:${l.digest}`, size: l.size })),
    ...(config.labels ? { annotations: config.labels } : {}),
  });
  const manifestDigest = sha256(manifest);
  await writeFile(join(blobs, manifestDigest), manifest);
  await writeFile(
    join(dir, 'index.json'),
    canonicalJson({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${manifestDigest}`, size: Buffer.byteLength(manifest), annotations: { 'org.opencontainers.image.ref.name': 'latest' } }],
    }),
  );
  await writeFile(join(dir, 'oci-layout'), canonicalJson({ imageLayoutVersion: '1.0.0' }));
  return { layers: layers.map((l) => l.digest), config: configDigest, configText };
}

/** The files of a docker-archive (docker save format), to be packed by tar in this order. */
export async function writeDockerArchiveTree(dir: string, layerTars: string[], name: string, digests: ImageDigests): Promise<string[]> {
  const members: string[] = [];
  for (const [i, tar] of layerTars.entries()) {
    const digest = digests.layers[i] ?? '';
    const member = `${digest}/layer.tar`;
    if (members.includes(member)) continue;
    await mkdir(join(dir, digest), { recursive: true });
    await link(tar, join(dir, member));
    members.push(member);
  }
  await writeFile(join(dir, `${digests.config}.json`), digests.configText);
  const layers = digests.layers.map((d) => `${d}/layer.tar`);
  await writeFile(join(dir, 'manifest.json'), JSON.stringify([{ Config: `${digests.config}.json`, RepoTags: [`localhost/kiln/${name}:latest`], Layers: layers }]));
  return ['manifest.json', `${digests.config}.json`, ...members];
}
