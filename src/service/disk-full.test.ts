/**
 * The disk filling up during an artifact upload (a small tmpfs as the artifact folder; tests run
 * as root, as kiln's builds do): the build fails with that reason and nothing partial is listed.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { execa } from 'execa';
import { openServiceStore } from './db/index.js';
import { claimJob, createBuild } from './suites/builds-suite.js';
import { errorOf, HELLO, pushYaml, withService } from './test-support/harness.js';

void describe('artifact upload on a full disk', () => {
  void it('answers 507 no_space, fails the build with the reason, lists nothing and leaves no temporary file', async () => {
    const mountpoint = await mkdtemp(join(tmpdir(), 'kiln-full-'));
    await execa('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mountpoint]);
    try {
      const artifactsDir = join(mountpoint, 'artifacts');
      await mkdir(artifactsDir);
      await withService(
        (dataDir) => openServiceStore({ sqliteFile: join(dataDir, 'kiln.db') }),
        async (h) => {
          await pushYaml(h, HELLO);
          const build = await createBuild(h);
          const c = await claimJob(h);
          const data = Buffer.alloc(1024 * 1024, 7);
          const res = await h.app.inject({
            method: 'PUT',
            url: `/v1/jobs/${c.job.lease}/artifacts/disk.img`,
            headers: { ...c.headers, 'content-type': 'application/octet-stream', 'x-kiln-sha256': createHash('sha256').update(data).digest('hex') },
            payload: data,
          });
          assert.equal(res.statusCode, 507, res.body);
          assert.equal(errorOf(res).code, 'no_space');
          const after = await h.store.getBuild(build.id);
          assert.equal(after?.state, 'failed');
          assert.equal(after?.error, 'the server has no space left to store artifact disk.img');
          assert.deepEqual(await h.store.artifacts(build.id), []);
          assert.deepEqual(await readdir(join(artifactsDir, build.id, c.job.lease)), []);
        },
        { artifactsDir },
      );
    } finally {
      await execa('umount', [mountpoint]);
      await rm(mountpoint, { recursive: true, force: true });
    }
  });
});
