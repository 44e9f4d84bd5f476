import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configJson } from './oci.js';

void test("an image's config: a shell by default; a server's entrypoint, command and port when given; one history entry per layer", () => {
  const plain = JSON.parse(configJson({ name: 'a', arch: 'arm64', created: '2026-01-01T00:00:00Z' }, ['11'])) as Record<string, unknown>;
  assert.equal(plain.architecture, 'arm64');
  assert.deepEqual((plain.config as Record<string, unknown>).Cmd, ['/bin/sh']);
  assert.deepEqual(plain.rootfs, { type: 'layers', diff_ids: ['sha256:11'] });
  const server = JSON.parse(
    configJson({ name: 'a', arch: 'amd64', created: '2026-01-01T00:00:00Z', run: { entrypoint: ['/usr/bin/busybox', 'httpd'], cmd: ['-p', '8080'], ports: ['8080/tcp'] }, labels: { title: 'x' } }, ['11', '22']),
  ) as { config: Record<string, unknown>; rootfs: { diff_ids: string[] }; history: unknown[] };
  assert.deepEqual(server.config.Entrypoint, ['/usr/bin/busybox', 'httpd']);
  assert.deepEqual(server.config.Cmd, ['-p', '8080']);
  assert.deepEqual(server.config.ExposedPorts, { '8080/tcp': {} });
  assert.deepEqual(server.config.Labels, { title: 'x' });
  assert.deepEqual(server.rootfs.diff_ids, ['sha256:11', 'sha256:22']);
  assert.equal(server.history.length, 2);
});
