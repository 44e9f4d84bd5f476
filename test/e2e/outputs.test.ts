/**
 * Output formats, from two small recipes sharing one cache: a disk image written as raw (zstd,
 * with its bmap) and converted to qcow2, vmdk, vhdx and vdi; and a container image (no kernel, no
 * disk) written as a root tar, an OCI layout and a docker-archive. Nothing here boots.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { kiln, readJson, run, scratch, sharedCache } from './kiln.js';

const cache = sharedCache('outputs');
interface Record {
  stages: { name: string }[];
  outputs: { file: string; format: string; size: number; sha256: string }[];
}

async function build(recipe: string): Promise<{ out: string; record: Record }> {
  const out = join(scratch('outputs'), 'out');
  const built = await kiln(['build', `test/e2e/fixtures/outputs/${recipe}`, '-o', out], { KILN_CACHE: cache });
  assert.equal(built.code, 0, `build failed:\n${built.stderr.slice(-3000)}`);
  return { out, record: readJson<Record>(join(out, 'build.json')) };
}

void test('outputs: raw.zst with a bmap that bmaptool copies, and qcow2, vmdk, vhdx, vdi that qemu-img checks and finds equal', async () => {
  const { out, record } = await build('disk.yaml');
  assert.deepEqual(record.outputs.map((o) => [o.file, o.format]), [
    ['disk.raw.bmap', 'bmap'],
    ['disk.raw.zst', 'raw'],
    ['disk.qcow2', 'qcow2'],
    ['disk.vmdk', 'vmdk'],
    ['disk.vhdx', 'vhdx'],
    ['disk.vdi', 'vdi'],
    ['disk.spdx.json', 'spdx'],
    ['disk.cdx.json', 'cyclonedx'],
  ]);
  assert.equal(existsSync(join(out, 'disk.raw')), false, 'the uncompressed raw is not an output');
  // SHA256SUMS covers every output, and sha256sum agrees with it.
  assert.deepEqual(readFileSync(join(out, 'SHA256SUMS'), 'utf8').trim().split('\n').map((l) => l.split('  ')[1]).sort(), record.outputs.map((o) => o.file).sort());
  run('sh', ['-c', `cd '${out}' && sha256sum --quiet -c SHA256SUMS`]);

  const raw = join(out, 'plain.raw');
  run('zstd', ['-q', '-d', join(out, 'disk.raw.zst'), '-o', raw]);
  const flashed = join(out, 'flashed.raw');
  run('bmaptool', ['copy', '--bmap', join(out, 'disk.raw.bmap'), join(out, 'disk.raw.zst'), flashed]);
  assert.equal(run('sha256sum', [flashed]).split(' ')[0], run('sha256sum', [raw]).split(' ')[0], 'bmaptool copy reproduces the image');
  assert.ok(statSync(flashed).blocks * 512 < statSync(flashed).size / 2, 'bmaptool skipped the holes');
  for (const format of ['qcow2', 'vmdk', 'vhdx', 'vdi']) {
    const file = join(out, `disk.${format}`);
    run('qemu-img', ['check', '-f', format, file]);
    assert.match(run('qemu-img', ['compare', '-f', 'raw', '-F', format, raw, file]), /Images are identical/);
    assert.match(run('qemu-img', ['info', file]), new RegExp(`file format: ${format}`));
  }
});

void test('outputs: a container image as tar, OCI layout (skopeo reads it) and docker-archive (podman loads it; its own cat runs in it)', async () => {
  const { out, record } = await build('container.yaml');
  assert.ok(!record.stages.some((s) => ['partition-table', 'filesystems', 'fstab', 'kernel'].includes(s.name)), 'no disk stages');
  assert.deepEqual(record.outputs.map((o) => o.format), ['tar', 'oci', 'docker-archive', 'spdx', 'cyclonedx']);
  const listing = run('tar', ['--numeric-owner', '-tvf', join(out, 'container.tar')]);
  assert.match(listing, /^-rw-r--r-- 0\/0 +\d+ \S+ \S+ \.\/etc\/kiln-container$/m);
  assert.match(listing, /\.\/usr\/bin\/dpkg$/m);
  const names = listing.split('\n').filter(Boolean).map((l) => l.split(/\s+/).slice(5).join(' '));
  // tar --sort=name: each folder's entries in byte order, each folder followed by its contents.
  const parts = (n: string) => n.replace(/ -> .*$/, '').replace(/\/$/, '').split('/');
  const byFolder = (a: string, b: string) => {
    const [x, y] = [parts(a), parts(b)];
    for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return (x[i] ?? '') < (y[i] ?? '') ? -1 : 1;
    return x.length - y.length;
  };
  assert.deepEqual(names, [...names].sort(byFolder), 'entries are in sorted order');
  assert.ok(!names.some((n) => /^\.\/(proc|sys|dev)\/./.test(n)), 'no /proc, /sys or /dev contents');

  const inspect = JSON.parse(run('skopeo', ['inspect', `oci:${join(out, 'container.oci')}:latest`])) as { Architecture: string; Os: string; Layers: string[] };
  assert.equal(inspect.Architecture, 'amd64');
  assert.equal(inspect.Os, 'linux');
  assert.equal(inspect.Layers.length, 1);
  assert.ok(readdirSync(join(out, 'container.oci/blobs/sha256')).length === 3);

  const loaded = run('podman', ['load', '-i', join(out, 'container.docker.tar')]);
  assert.match(loaded, /localhost\/kiln\/container:latest/);
  // `podman run` cannot start any container on this host (crun: "cgroups in hybrid mode not
  // supported", and setrlimit is refused), so the loaded image's root is mounted from podman's
  // storage and the image's own cat runs in it.
  const root = run('podman', ['image', 'mount', 'localhost/kiln/container:latest']).trim();
  try {
    const osRelease = run('chroot', [root, '/bin/cat', '/etc/os-release', '/etc/kiln-container']);
    assert.match(osRelease, /PRETTY_NAME="Debian GNU\/Linux 13 \(trixie\)"/);
    assert.match(osRelease, /made by kiln/);
  } finally {
    run('podman', ['image', 'unmount', 'localhost/kiln/container:latest']);
    run('podman', ['rmi', 'localhost/kiln/container:latest']);
  }
});
