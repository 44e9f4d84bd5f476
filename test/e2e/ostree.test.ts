/**
 * OSTree commits (examples/edge.yaml): v1 and then v2, one package more, on one ref of one archive
 * repository. The commit has OSTree's layout and metadata, v2's parent is v1, a static delta leads
 * from v1 to v2, the summary names v2; v2 and the summary are signed, a client trusting the image's
 * own keyring pulls it; a key with a passphrase is refused; and the commit deploys into a folder.
 * v1's deployed disk (edge-raw-image) boots in QEMU into its deployment, pulls v2 with `ostree
 * admin upgrade` from `kiln serve-repo`, and boots v2 from the menu the device wrote itself, where
 * the health layer's checks pass and end v2's trial. v3, whose required check fails, boots once,
 * reboots, GRUB falls back to v2, and v2 removes v3 and reports the rollback (`kiln-health status`).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Console, withConsole } from './console.js';
import { buildRecord, kiln, REPO, run, scratch, sharedCache } from './kiln.js';
import { serveRepo } from './ostree-kit.js';
import { freePort } from '../../src/testing/free-port.js';

const REF = 'debian/trixie/amd64/edge';
const dir = scratch('ostree');
/** Where the device pulls from: kiln serve-repo on the host's loopback, 10.0.2.2 to a QEMU guest. */
const PORT = await freePort();
const cache = sharedCache('ostree');

function ostree(repo: string, ...args: string[]): string {
  return run('ostree', [...args, `--repo=${repo}`]);
}

void test('ostree: v1 and v2 on one ref, with parent, metadata, layout, static delta and summary; v2 signed and pulled with verification; v2 deploys', async (t) => {
  // The repository beside the test's recipe, not beside the examples.
  // One boot for a new deployment to prove itself (the health layer's default is three).
  const example = readFileSync(join(REPO, 'examples/edge.yaml'), 'utf8').replace(/^ {2}repo: .*$/m, '  repo: ./repo').replace('10.0.2.2:8000', `10.0.2.2:${PORT}`);
  // Booted under emulation: no page zeroing (the emulated layer); a VM's short initramfs (vm's list, dracut's drivers).
  writeFileSync(join(dir, 'edge.yaml'), `${example.replace('layers: [systemd-networkd, health]', 'layers: [systemd-networkd, health, emulated, vm]')}health:\n  boot_tries: 1\n`);
  const repo = join(dir, 'repo');

  const first = await kiln(['build', join(dir, 'edge.yaml'), '-o', join(dir, 'v1')], { KILN_CACHE: cache });
  assert.equal(first.code, 0, first.stderr.slice(-3000));
  const v1 = ostree(repo, 'rev-parse', REF).trim();
  const record1 = buildRecord(join(dir, 'v1')) as ReturnType<typeof buildRecord> & { ostree?: { commit: string; parent: string | null } };
  assert.equal(record1.ostree?.commit, v1);
  assert.equal(record1.ostree?.parent, null);
  assert.ok(record1.outputs.some((o) => o.file === 'edge.ostree.tar' && o.format === 'ostree-repo'));
  assert.ok(record1.outputs.some((o) => o.file === 'edge.raw' && o.format === 'raw'), 'the deployed disk beside the commit');

  // The metadata, and the layout ostree admin deploy expects.
  assert.equal(ostree(repo, 'show', '--print-metadata-key=version', v1).trim(), "'1'");
  assert.match(ostree(repo, 'show', '--print-metadata-key=kiln.recipe-hash', v1), /'sha256:[0-9a-f]{64}'/);
  const top = ostree(repo, 'ls', v1, '/');
  assert.doesNotMatch(top, / \/etc\n/);
  assert.match(top, /l00777 .* \/home -> var\/home\n/);
  assert.match(top, /l00777 .* \/ostree -> sysroot\/ostree\n/);
  assert.equal(ostree(repo, 'ls', v1, '/var').trim().split('\n').length, 1, '/var is empty in the commit');
  assert.equal(ostree(repo, 'ls', v1, '/dev').trim().split('\n').length, 1, '/dev is empty in the commit');
  assert.equal(ostree(repo, 'cat', v1, '/usr/etc/hostname').trim(), 'edge');
  assert.match(ostree(repo, 'cat', v1, '/usr/etc/ostree/remotes.d/edge.conf'), new RegExp(`^url=http://10\\.0\\.2\\.2:${PORT}/repo$`, 'm'));
  // grub-mkconfig and its settings, for the menus the device writes at each update.
  assert.match(ostree(repo, 'cat', v1, '/usr/etc/default/grub'), /^GRUB_TERMINAL="serial console"$/m);
  assert.match(ostree(repo, 'ls', v1, '/usr/sbin/grub-mkconfig'), /grub-mkconfig/);
  assert.match(ostree(repo, 'cat', v1, '/usr/lib/tmpfiles.d/kiln-ostree-var.conf'), /^C \/var\/lib\/dpkg - - - - \/usr\/share\/kiln\/var\/lib\/dpkg$/m);
  const modules = ostree(repo, 'ls', '-R', v1, '/usr/lib/modules');
  assert.match(modules, /\/usr\/lib\/modules\/[^/]+\/vmlinuz\n/);
  assert.match(modules, /\/usr\/lib\/modules\/[^/]+\/initramfs\.img\n/);
  // The initramfs holds OSTree's prepare-root, which finds the deployment at boot.
  const kver = /\/usr\/lib\/modules\/([^/]+)\/vmlinuz\n/.exec(modules)?.[1] ?? '';
  const initramfs = join(dir, 'initramfs.img');
  writeFileSync(initramfs, '');
  run('sh', ['-c', `ostree cat --repo='${repo}' ${v1} /usr/lib/modules/${kver}/initramfs.img > '${initramfs}'`]);
  // (dracut compresses it with zstd; the unit's name is in the archive's list of files.)
  assert.match(run('sh', ['-c', `zstdcat '${initramfs}' | grep -a -o -m1 'ostree-prepare-root\\.service' || true`]), /ostree-prepare-root\.service/);
  // The vm layer's short list is dracut's exclusive drivers: virtio's disk driver, no RAID controller's.
  // (An archive member's name is its whole path; the lists dracut copies name modules from kernel/.)
  const member = (module: string) => run('sh', ['-c', `zstdcat '${initramfs}' | grep -a -c 'usr/lib/modules/${kver}/kernel/drivers/${module}' || true`]).trim();
  assert.notEqual(member('block/virtio_blk.ko'), '0');
  assert.equal(member('scsi/megaraid/megaraid_sas.ko'), '0');
  ostree(repo, 'fsck');

  // A key that asks for a passphrase cannot sign unattended: refused at its line before any work.
  const gnupg = join(dir, 'gnupg');
  run('mkdir', ['-m', '700', gnupg, join(dir, 'keys')]);
  const gpg = (...args: string[]) => run('gpg', ['--homedir', gnupg, '--batch', '--pinentry-mode', 'loopback', ...args]);
  gpg('--passphrase', '', '--quick-gen-key', 'edge updates <edge@example.org>', 'ed25519', 'sign', 'never');
  gpg('--passphrase', 'secret', '--quick-gen-key', 'guarded <guarded@example.org>', 'ed25519', 'sign', 'never');
  writeFileSync(join(dir, 'keys/edge.asc'), gpg('--armor', '--export-secret-keys', 'edge@example.org'));
  writeFileSync(join(dir, 'keys/guarded.asc'), gpg('--passphrase', 'secret', '--armor', '--export-secret-keys', 'guarded@example.org'));
  run('gpgconf', ['--homedir', gnupg, '--kill', 'gpg-agent']);
  const recipe = readFileSync(join(dir, 'edge.yaml'), 'utf8');
  // v2 is a commit only, and a container serving it: v1's disk is the one this file boots.
  const signed = (key: string) => recipe.replace('version: "1"', `version: "2"\n  sign: { key: keys/${key} }`).replace(/^outputs: .*$/m, 'outputs: [ostree-repo, ostree-container]');
  writeFileSync(join(dir, 'edge.yaml'), signed('guarded.asc'));
  const guarded = await kiln(['build', join(dir, 'edge.yaml'), '-o', join(dir, 'v2')], { KILN_CACHE: cache });
  assert.equal(guarded.code, 2, guarded.stderr.slice(-3000));
  assert.match(guarded.stderr, /edge\.yaml:\d+:\d+ ostree\.sign\.key: "keys\/guarded\.asc" cannot sign unattended/);
  assert.equal(ostree(repo, 'rev-parse', REF).trim(), v1, 'the refused build left the ref alone');

  // v2: one package more (a new packages stage: the bootstrap is reused), on top of v1, signed.
  // hello: nothing in the initramfs uses it (dracut copies less into its rescue shell, so adding
  // less would change the initramfs, a 15 MB object, and the update with it).
  writeFileSync(join(dir, 'edge.yaml'), `${signed('edge.asc')}packages: [hello]\n`);
  const second = await kiln(['build', join(dir, 'edge.yaml'), '-o', join(dir, 'v2')], { KILN_CACHE: cache });
  assert.equal(second.code, 0, second.stderr.slice(-3000));
  const v2 = ostree(repo, 'rev-parse', REF).trim();
  assert.notEqual(v2, v1);
  assert.equal(ostree(repo, 'rev-parse', `${REF}^`).trim(), v1, "v2's parent is v1");
  assert.match(ostree(repo, 'diff', v1, v2), /^A\s+\/usr\/bin\/hello$/m);
  // kiln diff of the two commits: the package and its files, read from the repository.
  const diff = await kiln(['diff', '--json', '--ostree', repo, `${REF}^`, REF]);
  assert.equal(diff.code, 1, diff.stderr);
  const changes = JSON.parse(diff.stdout) as { packages: { added: { name: string }[]; removed: unknown[] }; files: { added: string[]; removed: string[] } };
  assert.deepEqual(changes.packages.added.map((p) => p.name), ['hello']);
  assert.deepEqual(changes.packages.removed, []);
  assert.ok(changes.files.added.includes('/usr/bin/hello'));
  assert.deepEqual(changes.files.removed, []);
  assert.match(ostree(repo, 'static-delta', 'list'), new RegExp(`${v1}-${v2}`));
  assert.match(ostree(repo, 'summary', '--view'), new RegExp(`\\* ${REF.replace(/\//g, '\\/')}\\n\\s+Latest Commit \\([^)]*\\):\\n\\s+${v2}`));
  const deltaBytes = Number(run('du', ['-sb', join(repo, 'deltas')]).split('\t')[0]);
  const repoBytes = Number(run('du', ['-sb', repo]).split('\t')[0]);
  t.diagnostic(`v1 -> v2 (one package): static delta ${(deltaBytes / 1024).toFixed(0)} KiB, repository ${(repoBytes / 2 ** 20).toFixed(0)} MiB`);
  ostree(repo, 'fsck');

  // A client that trusts only the image's own keyring pulls v2 with verification on: the summary
  // and the commit are signed by the recipe's key, whose public half the image carries.
  const trusted = join(dir, 'trusted');
  run('mkdir', ['-p', trusted]);
  run('sh', ['-c', `ostree cat --repo='${repo}' ${v2} /usr/share/ostree/trusted.gpg.d/edge.gpg > '${trusted}/edge.gpg'`]);
  assert.match(ostree(repo, 'cat', v2, '/usr/etc/ostree/remotes.d/edge.conf'), /^gpg-verify=true\ngpg-verify-summary=true$/m);
  const client = join(dir, 'client');
  run('ostree', ['init', `--repo=${client}`, '--mode=archive']);
  run('ostree', ['remote', 'add', `--repo=${client}`, '--set=gpg-verify=true', '--set=gpg-verify-summary=true', `--gpg-import=${trusted}/edge.gpg`, 'edge', `file://${repo}`]);
  run('ostree', ['pull', `--repo=${client}`, '--commit-metadata-only', `edge:${REF}`]);
  assert.match(ostree(repo, 'show', `--gpg-homedir=${trusted}`, v2), /Good signature from "edge updates <edge@example\.org>"/);
  assert.match(JSON.stringify(buildRecord(join(dir, 'v2'))), /"signedBy":"[0-9A-F]{40}"/);

  // The container (edge-container) serves v2 over HTTP: its own command, run from its layers, and
  // a client that verifies signatures pulls v2's metadata and a file from it.
  const oci = join(dir, 'v2', 'edge-repo.oci');
  assert.match(run('skopeo', ['inspect', '--config', `oci:${oci}:latest`]), /"Entrypoint": \[\s*"\/usr\/bin\/busybox",\s*"httpd"/);
  const served = await serveContainer(oci, join(dir, 'container'));
  try {
    const viaHttp = join(dir, 'client-http');
    run('ostree', ['init', `--repo=${viaHttp}`, '--mode=archive']);
    run('ostree', ['remote', 'add', `--repo=${viaHttp}`, '--set=gpg-verify=true', '--set=gpg-verify-summary=true', `--gpg-import=${trusted}/edge.gpg`, 'edge', `${served.url}/repo`]);
    assert.match(run('ostree', ['remote', 'refs', `--repo=${viaHttp}`, 'edge']), new RegExp(`^edge:${REF}$`, 'm'));
    run('ostree', ['pull', `--repo=${viaHttp}`, '--subpath=/usr/bin/hello', `edge:${REF}`]);
    assert.equal(ostree(viaHttp, 'rev-parse', REF).trim(), v2);
    assert.match(ostree(viaHttp, 'ls', v2, '/usr/bin/hello'), /\/usr\/bin\/hello$/m);
  } finally {
    served.stop();
  }

  // ostree admin deploys v2 into a folder: the kernel is found, /etc is made from /usr/etc. Without
  // CAP_SYS_ADMIN, or ostree freezes the host's file system while it syncs.
  const sysroot = join(dir, 'sysroot');
  run('mkdir', ['-p', sysroot]);
  run('ostree', ['admin', 'init-fs', sysroot]);
  run('ostree', ['admin', 'os-init', 'debian', `--sysroot=${sysroot}`]);
  run('ostree', ['config', `--repo=${sysroot}/ostree/repo`, 'set', 'sysroot.bootloader', 'none']);
  run('ostree', ['pull-local', `--repo=${sysroot}/ostree/repo`, repo, REF]);
  try {
    run('setpriv', ['--bounding-set=-sys_admin', '--inh-caps=-sys_admin', 'ostree', 'admin', 'deploy', `--sysroot=${sysroot}`, '--os=debian', '--karg=root=LABEL=root', REF]);
    const deployed = join(sysroot, 'ostree/deploy/debian/deploy', `${v2}.0`);
    assert.equal(readFileSync(join(deployed, 'etc/hostname'), 'utf8').trim(), 'edge');
    const entries = readdirSync(join(sysroot, 'boot/loader/entries'));
    assert.equal(entries.length, 1);
    assert.match(readFileSync(join(sysroot, 'boot/loader/entries', entries[0] ?? ''), 'utf8'), /^linux \/ostree\/debian-[0-9a-f]+\/vmlinuz-/m);
  } finally {
    // Deployments are immutable (chattr +i) until told otherwise.
    if (existsSync(join(sysroot, 'ostree/deploy'))) run('sh', ['-c', `chattr -R -i '${sysroot}/ostree/deploy' 2>/dev/null || true`]);
  }
});

/**
 * Runs a container of kiln's like a runtime would, without one: its layers unpacked in order into
 * `into`, its Entrypoint in a chroot there with the Cmd replaced to listen on a free loopback port.
 */
async function serveContainer(oci: string, into: string): Promise<{ url: string; stop: () => void }> {
  const blob = (digest: string) => join(oci, 'blobs', digest.replace(':', '/'));
  const index = JSON.parse(readFileSync(join(oci, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  const manifest = JSON.parse(readFileSync(blob(index.manifests[0]?.digest ?? ''), 'utf8')) as { config: { digest: string }; layers: { digest: string }[] };
  const config = JSON.parse(readFileSync(blob(manifest.config.digest), 'utf8')) as { config: { Entrypoint: string[]; Cmd: string[]; ExposedPorts: Record<string, object> } };
  assert.deepEqual(config.config.Cmd, ['-p', '8080']);
  assert.deepEqual(Object.keys(config.config.ExposedPorts), ['8080/tcp']);
  assert.equal(manifest.layers.length, 2, 'the server and the repository');
  run('mkdir', ['-p', into]);
  for (const layer of manifest.layers) run('tar', ['--extract', '--file', blob(layer.digest), '--directory', into]);
  const port = await freePort();
  const server = spawn('chroot', [into, ...config.config.Entrypoint, '-p', `127.0.0.1:${port}`], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    const ok = await fetch(`${url}/repo/config`).then((r) => r.ok, () => false);
    if (ok) break;
    assert.ok(i < 100 && server.exitCode === null, `the container's httpd did not start (exit ${server.exitCode})`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, stop: () => server.kill() };
}

void test("ostree: v1's deployed disk boots into its deployment, pulls v2 from kiln serve-repo with ostree admin upgrade, and boots v2; v3 fails its health check and is rolled back to v2", async (t) => {
  type OstreeRecord = ReturnType<typeof buildRecord> & { ostree?: { commit: string } };
  const v1 = (buildRecord(join(dir, 'v1')) as OstreeRecord).ostree?.commit ?? '';
  const v2 = (buildRecord(join(dir, 'v2')) as OstreeRecord).ostree?.commit ?? '';
  assert.match(v1, /^[0-9a-f]{64}$/);
  assert.match(v2, /^[0-9a-f]{64}$/);
  // The device's own disk, measured below against the bytes an update pulls.
  const device = join(dir, 'device.raw');
  const startDevice = Console.device(join(dir, 'v1', 'edge.raw'), device);
  const server = await serveRepo(join(dir, 'repo'), PORT);
  try {
    await withConsole(startDevice, async (vm) => {
      await vm.login('root', 'root');
      process.stderr.write(`QEMU login prompt after ${vm.seconds} s\n`);
      const status = await vm.run('ostree admin status');
      assert.equal(status.status, 0);
      assert.match(status.out, new RegExp(`^\\* debian ${v1}\\.0\\n\\s+Version: 1\\n\\s+origin refspec: edge:${REF}$`));
      assert.deepEqual(await vm.run('ostree remote show-url edge'), { out: `http://10.0.2.2:${PORT}/repo`, status: 0 });
      assert.match((await vm.run('cat /proc/cmdline')).out, new RegExp(`ostree=/ostree/boot\\.\\d/debian/[0-9a-f]{64}/0`));
      // /usr is the deployment's, read-only; /etc is its own copy, with the recipe's hostname.
      assert.match((await vm.run('touch /usr/kiln-probe')).out, /Read-only file system/);
      assert.deepEqual(await vm.run('cat /etc/hostname'), { out: 'edge', status: 0 });
      // /var seeded on the first boot (tmpfiles), the ESP mounted when first used (an automount), and nothing failed on the way.
      assert.deepEqual(await vm.run('test -f /var/lib/dpkg/status && ls /boot/efi >/dev/null && findmnt -n -o FSTYPE /boot/efi'), { out: 'autofs\nvfat', status: 0 });
      assert.deepEqual(await vm.run('systemctl --failed --plain --no-legend'), { out: '', status: 0 });

      // The health layer's checks passed (and are done: the trial the update starts is v2's alone).
      assert.match((await vm.run('systemctl is-system-running --wait; journalctl --no-pager -b -u kiln-health -o cat', 300)).out, /^kiln-health: healthy$/m);

      // The update: v2 (one package more) pulled over HTTP, deployed beside v1, in a menu the device
      // wrote itself (OSTree's grub2 backend and grub-mkconfig), which boots it.
      const before = server.log().length;
      const asked = vm.seconds;
      const upgrade = await vm.run('ostree admin upgrade', 900);
      assert.equal(upgrade.status, 0, upgrade.out);
      const pending = (await vm.run('ostree admin status')).out;
      assert.equal(/debian ([0-9a-f]{64})\.\d/.exec(pending)?.[1], v2, `v2 is the first deployment:\n${pending}`);
      assert.match((await vm.run('head -n 6 /boot/loader/grub.cfg')).out, /generated by grub-mkconfig/);
      assert.equal((await vm.run(`grep -c "^menuentry .*ostree" /boot/loader/grub.cfg`)).out, '2', 'v2 and v1 in the menu');
      // The health layer's boot counting comes before the entries, and the new menu started v2's trial.
      const menu = (await vm.run('cat /boot/loader/grub.cfg')).out;
      assert.ok(menu.indexOf('# kiln health: a new deployment gets 1 boot(s)') > 0 && menu.indexOf('# kiln health') < menu.indexOf('\nmenuentry '), menu);
      assert.match((await vm.run('grub-editenv /boot/grub/grubenv list')).out, /^boot_counter=1\nboot_success=0$|^boot_success=0\nboot_counter=1$/);
      // v3 fails a required check. It is built while the device reboots into v2: v2 is pulled, so the ref may move on.
      run('mkdir', ['-p', join(dir, 'checks')]);
      writeFileSync(join(dir, 'checks/50-broken'), '#!/bin/sh\necho v3 is broken on purpose\nexit 1\n');
      writeFileSync(join(dir, 'edge.yaml'), readFileSync(join(dir, 'edge.yaml'), 'utf8').replace('version: "2"', 'version: "3"').replace('health:\n', 'health:\n  required: [checks/50-broken]\n').replace(/^outputs: .*$/m, 'outputs: [ostree-repo]'));
      const building = kiln(['build', join(dir, 'edge.yaml'), '-o', join(dir, 'v3')], { KILN_CACHE: cache });
      building.catch(() => {}); // awaited below; a failure before then must not end the process
      vm.send('systemctl reboot');
      await vm.login('root', 'root');
      const upgraded = vm.seconds - asked;
      const booted = (await vm.run('ostree admin status')).out;
      assert.match(booted, new RegExp(`^\\* debian ${v2}\\.0\\n\\s+Version: 2\\n`), booted);
      assert.match(booted, new RegExp(`debian ${v1}\\.0 \\(rollback\\)`), 'v1 is kept to fall back to');
      assert.equal((await vm.run('hello')).out, 'Hello, world!');
      // v2 was built without a disk, and its /etc (fstab) still mounts the device's ESP.
      assert.deepEqual(await vm.run('ls /boot/efi >/dev/null && findmnt -n -o FSTYPE /boot/efi'), { out: 'autofs\nvfat', status: 0 });
      assert.deepEqual(await vm.run('systemctl --failed --plain --no-legend'), { out: '', status: 0 });
      // v2's checks passed, which ended its trial.
      assert.match((await vm.run('systemctl is-system-running --wait; journalctl --no-pager -b -u kiln-health -o cat', 300)).out, /^kiln-health: healthy$/m);
      assert.deepEqual(await vm.run('grub-editenv /boot/grub/grubenv list'), { out: 'boot_success=1', status: 0 });
      // What the update cost on the wire: the server logs every response's bytes.
      const lines = server.log().slice(before).split('\n');
      const pulled = lines.map((l) => /^GET \S+ 2\d\d (\d+)$/.exec(l)).filter((m) => m !== null);
      const bytes = pulled.reduce((sum, m) => sum + Number(m[1]), 0);
      const image = Number(run('du', ['-B1', device]).split('\t')[0]);
      t.diagnostic(`v1 -> v2 (one package): ${bytes} bytes in ${pulled.length} requests, against ${(image / 2 ** 20).toFixed(0)} MiB allocated by the disk image; ${upgraded.toFixed(0)} s from ostree admin upgrade to v2's login prompt`);
      assert.ok(bytes > 0 && bytes < image / 20, `an update of one package pulls a small part of the image (${bytes} bytes):\n${lines.join('\n')}`);

      // v3's one boot is unhealthy, so the device reboots, GRUB boots the previous deployment (v2)
      // and kiln-health there removes v3.
      const third = await building;
      assert.equal(third.code, 0, third.stderr.slice(-3000));
      const v3 = (buildRecord(join(dir, 'v3')) as OstreeRecord).ostree?.commit ?? '';
      assert.equal((await vm.run('ostree admin upgrade', 900)).status, 0);
      assert.match((await vm.run('ostree admin status')).out, new RegExp(`^  debian ${v3}\\.0 \\(pending\\)\\n\\s+Version: 3\\n`, 'm'));
      const tried = vm.seconds;
      vm.send('systemctl reboot');
      await vm.waitFor(/kiln-health: required\.d\/50-broken FAILED \(exit 1\): v3 is broken on purpose/, 900, 300);
      await vm.waitFor(/kiln-health: rebooting: GRUB boots the previous deployment next/, 300, 300);
      // The kernel's banner: past v3's own login prompt, to v2's.
      await vm.waitFor(/Linux version \d/, 300, 300);
      await vm.login('root', 'root');
      t.diagnostic(`v3 -> v2: ${(vm.seconds - tried).toFixed(0)} s from the reboot into v3 to v2's login prompt (v3's boot and checks, the reboot, v2's boot)`);
      const health = (await vm.run('systemctl is-system-running --wait; journalctl --no-pager -b -u kiln-health -o cat', 300)).out;
      assert.match(health, new RegExp(`^kiln-health: rolled back: debian ${v3}\\.0 removed`, 'm'), health);
      assert.match(health, /^kiln-health: healthy$/m);
      // v2 reports the failed update.
      const report = (await vm.run('kiln-health status')).out;
      assert.match(report, /^last boot: \S+ healthy$/m, report);
      assert.match(report, /^trial: none/m, report);
      assert.match(report, new RegExp(`^rollbacks:\\n  \\S+ rolled back: debian ${v3}\\.0$`, 'm'), report);
      const after = (await vm.run('ostree admin status')).out;
      assert.match(after, new RegExp(`^\\* debian ${v2}\\.0\\n\\s+Version: 2\\n`), after);
      assert.doesNotMatch(after, new RegExp(v3));
      assert.match((await vm.run('cat /var/lib/kiln-health/rollbacks')).out, new RegExp(`rolled back: debian ${v3}\\.0$`));
      assert.deepEqual(await vm.run('grub-editenv /boot/grub/grubenv list'), { out: 'boot_success=1', status: 0 });
    });
  } finally {
    server.stop();
  }
});
