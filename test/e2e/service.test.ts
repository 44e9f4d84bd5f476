/**
 * The build service end to end on SQLite: `kiln serve` with its in-process worker builds a pushed
 * recipe folder (a layer, a variable, a hook) for `kiln remote`, with live events, logs and checked
 * artifacts; a build is canceled mid-hook and leaves nothing running; the server is killed with
 * SIGKILL mid-build and restarted, and the build is finished exactly once; an artifact folder that
 * fills up fails the build with that reason and lists nothing partial; and one disk image built
 * through the service boots.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bootCheck, kiln, linkedCache, run, scratch } from './kiln.js';
import { api, isFinal, mountsUnder, processesUsing, readEvents, recipeFolder, serve, sha256, submit, waitForBuild, type BuildView } from './service-kit.js';

const cache = linkedCache('service');
const env = { KILN_CACHE: cache };
const folder = recipeFolder(join(scratch('service-recipe'), 'svc'));

interface ArtifactView {
  name: string;
  size: number;
  sha256: string;
}

void test('service: a pushed recipe folder built with a variable and followed live; artifacts checked and downloaded; log by Range; events resume', async () => {
  const data = scratch('service-data');
  const s = await serve(data, ['--workers', '1'], env);
  try {
    const remote = { KILN_SERVER: s.url, KILN_TOKEN: s.admin };
    const pushed = await kiln(['remote', 'push', folder], remote);
    assert.equal(pushed.code, 0, pushed.stderr);
    assert.match(pushed.stdout, /svc.*version 1/);

    const built = await kiln(['remote', 'build', 'svc', '--set', 'NOTE=from-e2e', '--wait', '--follow'], remote);
    assert.equal(built.code, 0, `${built.stdout}\n${built.stderr}\n${s.output().slice(-3000)}`);
    const followed = built.stdout + built.stderr;
    for (const stage of ['bootstrap', 'files', 'customize-hooks', 'outputs']) assert.match(followed, new RegExp(stage), `--follow shows ${stage}`);

    const list = await api<{ builds: BuildView[] }>(s, 'GET', '/v1/builds?recipe=svc&state=succeeded');
    assert.equal(list.json.builds.length, 1);
    const build = list.json.builds[0] as BuildView;
    assert.ok(build.stages.length > 3 && build.stages.every((st) => st.state === 'done'), JSON.stringify(build.stages));

    // Every output, listed only once stored, and each download matches its listed sha256.
    const { json } = await api<{ artifacts: ArtifactView[] }>(s, 'GET', `/v1/builds/${build.id}/artifacts`);
    const names = json.artifacts.map((a) => a.name).sort();
    for (const name of ['svc.tar', 'build.json', 'kiln.lock', 'SHA256SUMS', 'svc.spdx.json', 'svc.cdx.json']) assert.ok(names.includes(name), `artifact ${name} in ${names.join(', ')}`);
    const tarInfo = json.artifacts.find((a) => a.name === 'svc.tar') as ArtifactView;
    const tar = await fetch(`${s.url}/v1/builds/${build.id}/artifacts/svc.tar`, { headers: { authorization: `Bearer ${s.admin}` } });
    const bytes = Buffer.from(await tar.arrayBuffer());
    assert.equal(sha256(bytes), tarInfo.sha256);
    assert.equal(tar.headers.get('content-digest'), `sha-256=:${Buffer.from(tarInfo.sha256, 'hex').toString('base64')}:`);
    const etag = tar.headers.get('etag') ?? '';
    const part = await fetch(`${s.url}/v1/builds/${build.id}/artifacts/svc.tar`, { headers: { authorization: `Bearer ${s.admin}`, range: 'bytes=512-1023' } });
    assert.equal(part.status, 206);
    assert.deepEqual(Buffer.from(await part.arrayBuffer()), bytes.subarray(512, 1024));
    const same = await fetch(`${s.url}/v1/builds/${build.id}/artifacts/svc.tar`, { headers: { authorization: `Bearer ${s.admin}`, 'if-none-match': etag } });
    assert.equal(same.status, 304);

    const out = join(scratch('service-download'), 'out');
    const downloaded = await kiln(['remote', 'download', build.id, '-o', out], remote);
    assert.equal(downloaded.code, 0, downloaded.stderr);
    assert.equal(sha256(readFileSync(join(out, 'svc.tar'))), tarInfo.sha256);
    assert.match(run('tar', ['-xOf', join(out, 'svc.tar'), './etc/svc-note']), /^from-e2e$/m);
    assert.equal((JSON.parse(readFileSync(join(out, 'build.json'), 'utf8')) as { name: string }).name, 'svc');

    // The log: whole, and by Range.
    const log = await fetch(`${s.url}/v1/builds/${build.id}/log`, { headers: { authorization: `Bearer ${s.admin}` } });
    const logText = await log.text();
    assert.match(logText, /sleep|hooks|files/);
    const head = await fetch(`${s.url}/v1/builds/${build.id}/log`, { headers: { authorization: `Bearer ${s.admin}`, range: 'bytes=0-99' } });
    assert.equal(head.status, 206);
    assert.equal(await head.text(), Buffer.from(logText).subarray(0, 100).toString());

    // Events: the whole stream, then resumed from its middle gives exactly the rest.
    const all = await readEvents(s, build.id);
    assert.ok(all.length > 10, `${all.length} events`);
    assert.deepEqual(all.map((e) => Number(e.id)), all.map((_, i) => i + 1), 'ids count up from 1 without gaps');
    assert.ok(all.some((e) => e.event === 'stage-start') && all.some((e) => e.event === 'artifact'));
    assert.equal((JSON.parse(all.at(-1)?.data ?? '{}') as { state?: string }).state, 'succeeded');
    const middle = all[Math.floor(all.length / 2)]?.id ?? '';
    assert.deepEqual(await readEvents(s, build.id, middle), all.slice(Math.floor(all.length / 2) + 1));

    const workers = await kiln(['remote', 'workers'], remote);
    assert.equal(workers.code, 0, workers.stderr);
    assert.match(workers.stdout, /idle/);
  } finally {
    await s.stop();
  }
});

void test('service: a build canceled in its hook stops at once and leaves nothing running or mounted; a retry is a new build', async () => {
  const data = scratch('service-cancel');
  const s = await serve(data, ['--workers', '1'], env);
  try {
    assert.equal((await kiln(['remote', 'push', folder, '--server', s.url, '--token', s.admin])).code, 0);
    const id = await submit(s, { recipe: 'svc', set: { SLEEP: '600', NOTE: 'cancel' } });
    await waitForBuild(s, id, (b) => b.stages.some((st) => st.name === 'customize-hooks' && st.state === 'running'), 600);
    const t = Date.now();
    const canceled = await kiln(['remote', 'cancel', id, '--server', s.url, '--token', s.admin]);
    assert.equal(canceled.code, 0, canceled.stderr);
    const done = await waitForBuild(s, id, isFinal, 60);
    assert.equal(done.state, 'canceled');
    assert.ok(Date.now() - t < 30_000, `canceled after ${Date.now() - t} ms`);
    assert.deepEqual(processesUsing(cache, [s.child.pid]), []);
    assert.deepEqual(mountsUnder(cache), []);
    assert.deepEqual((await api<{ artifacts: unknown[] }>(s, 'GET', `/v1/builds/${id}/artifacts`)).json.artifacts, []);

    const retried = await api<{ id: string; retryOf?: string; state: string }>(s, 'POST', `/v1/builds/${id}/retry`);
    assert.equal(retried.status, 202);
    assert.notEqual(retried.json.id, id);
    const again = await api<BuildView>(s, 'GET', `/v1/builds/${retried.json.id}`);
    assert.equal(again.json.retryOf, id);
    await api(s, 'POST', `/v1/builds/${retried.json.id}/cancel`);
    assert.equal((await waitForBuild(s, retried.json.id, isFinal, 60)).state, 'canceled');
  } finally {
    await s.stop();
  }
});

void test('service: killed with SIGKILL mid-build and restarted, the build is requeued and finished once; nothing partial is listed', async () => {
  const data = scratch('service-kill');
  let s = await serve(data, ['--workers', '1'], env);
  const id = await (async () => {
    assert.equal((await kiln(['remote', 'push', folder, '--server', s.url, '--token', s.admin])).code, 0);
    return submit(s, { recipe: 'svc', set: { SLEEP: '20', NOTE: 'killed' } });
  })();
  await waitForBuild(s, id, (b) => b.stages.some((st) => st.name === 'customize-hooks' && st.state === 'running'), 600);
  await s.stop('SIGKILL');
  // The build under the dead server dies with it (its worker's child has a parent-death signal).
  await new Promise((r) => setTimeout(r, 2000));
  assert.deepEqual(processesUsing(cache, []), []);
  assert.deepEqual(mountsUnder(cache), []);

  s = await serve(data, ['--workers', '1'], env);
  try {
    const done = await waitForBuild(s, id, isFinal, 600);
    assert.equal(done.state, 'succeeded', JSON.stringify(done));
    assert.equal(done.attempt, 1, 'requeued once, when the restarted worker registered again');
    const { json } = await api<{ artifacts: ArtifactView[] }>(s, 'GET', `/v1/builds/${id}/artifacts`);
    const names = json.artifacts.map((a) => a.name);
    assert.equal(new Set(names).size, names.length, `each artifact once: ${names.join(', ')}`);
    for (const a of json.artifacts) {
      const r = await fetch(`${s.url}/v1/builds/${id}/artifacts/${a.name}`, { headers: { authorization: `Bearer ${s.admin}` } });
      assert.equal(sha256(Buffer.from(await r.arrayBuffer())), a.sha256, a.name);
    }
    const states = (await readEvents(s, id)).filter((e) => e.event === 'state').map((e) => (JSON.parse(e.data) as { state: string }).state);
    assert.deepEqual(states.filter((x) => x === 'succeeded'), ['succeeded']);
  } finally {
    await s.stop();
  }
});

void test('service: an artifact folder that fills up fails the build with that reason and lists nothing partial', async () => {
  const data = scratch('service-full');
  const artifacts = join(data, 'small');
  mkdirSync(artifacts, { recursive: true });
  run('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'kiln-e2e-full', artifacts]);
  try {
    const s = await serve(data, ['--workers', '1', '--artifacts', artifacts], env);
    try {
      assert.equal((await kiln(['remote', 'push', folder, '--server', s.url, '--token', s.admin])).code, 0);
      const id = await submit(s, { recipe: 'svc', set: { NOTE: 'full' } });
      const done = await waitForBuild(s, id, isFinal, 600);
      assert.equal(done.state, 'failed');
      assert.match(done.error ?? '', /space/i);
      const { json } = await api<{ artifacts: ArtifactView[] }>(s, 'GET', `/v1/builds/${id}/artifacts`);
      assert.ok(!json.artifacts.some((a) => a.name === 'svc.tar'), 'the tar did not fit and is not listed');
      for (const a of json.artifacts) {
        const r = await fetch(`${s.url}/v1/builds/${id}/artifacts/${a.name}`, { headers: { authorization: `Bearer ${s.admin}` } });
        assert.equal(sha256(Buffer.from(await r.arrayBuffer())), a.sha256, `${a.name} is whole`);
      }
    } finally {
      await s.stop();
    }
  } finally {
    spawnSync('umount', [artifacts]);
  }
});

void test('service: a disk image built through the service boots', async () => {
  const dir = join(scratch('service-disk'), 'vm');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'recipe.yaml'), 'name: svcvm\nkernel: { initramfs_modules: [virtio_pci, virtio_blk, ext4] }\nlayers: [emulated]\nroot_password: root\noutputs: [raw]\n');
  const data = scratch('service-disk-data');
  const s = await serve(data, ['--workers', '1'], env);
  try {
    const remote = { KILN_SERVER: s.url, KILN_TOKEN: s.admin };
    assert.equal((await kiln(['remote', 'push', join(dir, 'recipe.yaml')], remote)).code, 0);
    const built = await kiln(['remote', 'build', 'svcvm', '--wait'], remote);
    assert.equal(built.code, 0, `${built.stdout}\n${built.stderr}`);
    const id = /\b([0-9a-z]{20,40})\b/.exec(built.stdout + built.stderr)?.[1] ?? '';
    const out = join(scratch('service-disk-out'), 'out');
    const downloaded = await kiln(['remote', 'download', id, 'svcvm.raw', 'build.json', '-o', out], remote);
    assert.equal(downloaded.code, 0, downloaded.stderr);
    assert.ok(existsSync(join(out, 'svcvm.raw')));
    await bootCheck(join(out, 'svcvm.raw'));
  } finally {
    await s.stop();
  }
});
