/**
 * Container images from a root-tree tar: an OCI image layout directory (`skopeo copy oci:DIR ...`)
 * and a docker-archive tarball (`podman load -i`, `docker load -i`). One uncompressed layer, the
 * tar itself; every JSON document is written with sorted keys so the same tar gives the same bytes.
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
}


function configJson(config: ImageConfig, layerDigest: string): string {
  const arch = (ARCH_NAMES as readonly string[]).includes(config.arch) ? archInfo(config.arch).oci : { architecture: config.arch };
  return canonicalJson({
    ...arch,
    os: 'linux',
    created: config.created,
    config: { Cmd: ['/bin/sh'], Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] },
    rootfs: { type: 'layers', diff_ids: [`sha256:${layerDigest}`] },
    history: [{ created: config.created, created_by: `kiln build (${config.name})` }],
  });
}

/**
 * Writes `dir` as an OCI image layout holding `layerTar`, and returns the digests the docker
 * archive reuses. The layer is hard-linked into the blobs, not copied.
 */
export async function writeOciLayout(dir: string, layerTar: string, config: ImageConfig): Promise<{ layer: string; config: string; configText: string }> {
  const blobs = join(dir, 'blobs', 'sha256');
  await mkdir(blobs, { recursive: true });
  const layer = await sha256File(layerTar);
  await link(layerTar, join(blobs, layer));
  const { size: layerSize } = await stat(layerTar);
  const configText = configJson(config, layer);
  const configDigest = sha256(configText);
  await writeFile(join(blobs, configDigest), configText);
  const manifest = canonicalJson({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${configDigest}`, size: Buffer.byteLength(configText) },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: `sha256:${layer}`, size: layerSize }],
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
  return { layer, config: configDigest, configText };
}

/** The files of a docker-archive (docker save format), to be packed by tar in this order. */
export async function writeDockerArchiveTree(dir: string, layerTar: string, name: string, digests: { layer: string; config: string; configText: string }): Promise<string[]> {
  await mkdir(join(dir, digests.layer), { recursive: true });
  await link(layerTar, join(dir, digests.layer, 'layer.tar'));
  await writeFile(join(dir, `${digests.config}.json`), digests.configText);
  await writeFile(join(dir, 'manifest.json'), JSON.stringify([{ Config: `${digests.config}.json`, RepoTags: [`localhost/kiln/${name}:latest`], Layers: [`${digests.layer}/layer.tar`] }]));
  return ['manifest.json', `${digests.config}.json`, `${digests.layer}/layer.tar`];
}
