import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { UserError } from '../errors.js';
import { boot, cpuModels, detectFormat, findOvmf, findSecureBootOvmf, isIso, qemuArgs } from './qemu.js';

const base = { format: 'raw', ovmf: { code: '/fw/CODE.fd', varsCopy: '/tmp/x/VARS.fd' }, memoryMiB: 1024 } as const;

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-qemu-test-'));
}

function emptyImage(dir: string, name = 'empty.img'): string {
  const image = path.join(dir, name);
  fs.writeFileSync(image, Buffer.alloc(4 * 1024 * 1024));
  return image;
}

/** pgrep exits 1 when nothing matches. */
async function qemuRunningFor(needle: string): Promise<boolean> {
  const r = await execa('pgrep', ['-f', needle], { reject: false });
  return r.exitCode === 0;
}

void test('qemuArgs: TCG q35 machine, read-only firmware, throwaway snapshot of the image', () => {
  const args = qemuArgs({ ...base, image: '/images/a.img', interactive: false });
  const joined = args.join(' ');
  assert.ok(joined.includes('-machine q35'));
  assert.ok(joined.includes('-accel tcg'));
  assert.ok(joined.includes('-cpu qemu64'));
  assert.ok(joined.includes('-m 1024'));
  assert.ok(!args.includes('-enable-kvm'));
  assert.ok(!joined.includes('kvm'));
  assert.ok(args.includes('if=pflash,format=raw,unit=0,readonly=on,file=/fw/CODE.fd'));
  assert.ok(args.includes('if=pflash,format=raw,unit=1,file=/tmp/x/VARS.fd'));
  assert.ok(args.includes('if=virtio,format=raw,snapshot=on,file=/images/a.img'));
  assert.ok(joined.includes('-nic user,model=virtio-net-pci'));
  assert.ok(args.includes('-no-reboot'));
  assert.ok(joined.includes('-display none -serial stdio -monitor none'));
  assert.ok(!args.includes('-nographic'));
});

void test('qemuArgs: --cpu replaces the architecture\'s CPU model and nothing else', () => {
  const table = qemuArgs({ ...base, image: '/images/a.img', interactive: false });
  const max = qemuArgs({ ...base, image: '/images/a.img', interactive: false, cpu: 'max' });
  assert.deepEqual(max, table.map((a) => (a === 'qemu64' ? 'max' : a)));
  assert.notDeepEqual(max, table);
});

void test('qemuArgs: a persistent guest writes to its image and reboots instead of ending QEMU', () => {
  const args = qemuArgs({ ...base, image: '/images/device.raw', format: 'raw', memoryMiB: 1024, interactive: false, persistent: true });
  assert.ok(args.includes('if=virtio,format=raw,file=/images/device.raw'));
  assert.ok(!args.includes('-no-reboot'));
});

void test('qemuArgs: interactive mode muxes console and monitor on stdio', () => {
  const plain = qemuArgs({ ...base, image: 'a.qcow2', format: 'qcow2', memoryMiB: 2048, interactive: true });
  assert.ok(plain.join(' ').includes('-nographic -serial mon:stdio'));
  assert.ok(plain.includes('if=virtio,format=qcow2,snapshot=on,file=a.qcow2'));
  assert.ok(plain.join(' ').includes('-m 2048'));

  const logged = qemuArgs({ ...base, image: 'a.img', interactive: true, logFile: 'a.img.boot.log' });
  assert.ok(logged.includes('-nographic'));
  assert.ok(logged.includes('stdio,id=console,mux=on,signal=off,logfile=a.img.boot.log'));
  assert.ok(!logged.includes('-display'));
});

void test('qemuArgs: commas in paths are doubled so QEMU does not split on them', () => {
  const args = qemuArgs({ ...base, image: '/images/a,b.img', interactive: false });
  assert.ok(args.includes('if=virtio,format=raw,snapshot=on,file=/images/a,,b.img'));
});

void test('detectFormat: qcow2 magic vs raw', () => {
  const dir = tempDir();
  try {
    const q = path.join(dir, 'q');
    fs.writeFileSync(q, Buffer.concat([Buffer.from('QFI\xfb', 'latin1'), Buffer.alloc(60)]));
    assert.equal(detectFormat(q), 'qcow2');
    assert.equal(detectFormat(emptyImage(dir)), 'raw');
    const tiny = path.join(dir, 'tiny');
    fs.writeFileSync(tiny, 'QF');
    assert.equal(detectFormat(tiny), 'raw');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

void test('findOvmf finds the Debian ovmf firmware pair', () => {
  const { code, vars } = findOvmf();
  assert.ok(fs.existsSync(code), code);
  assert.ok(fs.existsSync(vars), vars);
});

void test('boot: a missing image is a UserError', async () => {
  await assert.rejects(
    boot({ image: path.join(os.tmpdir(), 'kiln-no-such-image.img'), check: true, timeoutSeconds: 1 }),
    (err: unknown) => err instanceof UserError && /no such file/.test(err.message),
  );
});

// 45 s: OVMF under TCG prints within seconds on a quiet host, but far later on a busy one.
void test('boot --check on an empty disk times out, writes a log and leaves no QEMU behind', { timeout: 120_000 }, async () => {
  const dir = tempDir();
  try {
    const image = emptyImage(dir);
    let output = '';
    const started = Date.now();
    const r = await boot({ image, check: true, timeoutSeconds: 15, onOutput: (c) => (output += c) });
    const took = (Date.now() - started) / 1000;

    assert.ok(r.result === 'timeout' || r.result === 'exited', `unexpected result ${r.result}`);
    assert.ok(took < 45, `boot took ${took}s`);
    assert.ok(r.seconds > 0 && r.seconds <= took + 1);
    assert.equal(r.logFile, `${image}.boot.log`);
    assert.ok(fs.existsSync(r.logFile));
    // OVMF always talks on the serial port; an empty log would mean the console is not wired up.
    assert.ok(output.length > 0, 'no console output from QEMU');
    // The log also holds QEMU's stderr ("terminating on signal 15"), so it may be longer.
    const log = fs.readFileSync(r.logFile, 'utf8');
    assert.ok(log.includes(output.slice(0, 100)) && log.length >= output.length, 'console output missing from log');
    assert.equal(await qemuRunningFor(image), false, 'QEMU still running');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

void test('boot --check stops QEMU when the abort signal fires', { timeout: 30_000 }, async () => {
  const dir = tempDir();
  try {
    const image = emptyImage(dir);
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('stop now')), 2000);
    const started = Date.now();
    await assert.rejects(
      boot({ image, check: true, timeoutSeconds: 60, signal: controller.signal, logFile: path.join(dir, 'log') }),
      /stop now/,
    );
    assert.ok((Date.now() - started) / 1000 < 10);
    assert.equal(await qemuRunningFor(image), false, 'QEMU still running');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

void test('QEMU does not outlive a Node process that exits mid-boot', { timeout: 30_000 }, async () => {
  const dir = tempDir();
  try {
    const image = emptyImage(dir, 'orphan-check.img');
    const qemuModule = new URL('./qemu.js', import.meta.url).href;
    const script = `
      import { spawnSync } from 'node:child_process';
      import { boot } from ${JSON.stringify(qemuModule)};
      void boot({ image: ${JSON.stringify(image)}, check: true, timeoutSeconds: 60 });
      setTimeout(() => {
        const running = spawnSync('pgrep', ['-f', ${JSON.stringify(image)}]).status === 0;
        process.stdout.write(running ? 'running' : 'not running');
        process.exit(0);
      }, 2000);
    `;
    const childTmp = path.join(dir, 'tmp');
    fs.mkdirSync(childTmp);
    const child = await execa(process.execPath, ['--input-type=module', '-e', script], {
      env: { TMPDIR: childTmp },
    });
    assert.equal(child.stdout, 'running', 'QEMU never started, so this test proves nothing');
    // SIGKILL delivery is asynchronous; give the kernel a moment to reap.
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(await qemuRunningFor(image), false, 'QEMU outlived its parent');
    // The child's TMPDIR is ours, so its firmware VARS copy must be gone from it as well.
    assert.deepEqual(fs.readdirSync(childTmp), []);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

void test('qemuArgs: BIOS boots without the UEFI firmware drives (SeaBIOS)', () => {
  const args = qemuArgs({ format: 'raw', memoryMiB: 1024, image: 'a.img', interactive: false });
  assert.ok(!args.some((a) => a.includes('pflash')));
  assert.ok(args.includes('if=virtio,format=raw,snapshot=on,file=a.img'));
});

void test('qemuArgs with Secure Boot: SMM on the machine and a flash only SMM may write', () => {
  const args = qemuArgs({ ...base, image: '/images/a.img', interactive: false, secureBoot: true });
  assert.equal(args[args.indexOf('-machine') + 1], 'q35,smm=on');
  assert.equal(args[args.indexOf('-global') + 1], 'driver=cfi.pflash01,property=secure,value=on');
  const plain = qemuArgs({ ...base, image: '/images/a.img', interactive: false });
  assert.equal(plain[plain.indexOf('-machine') + 1], 'q35');
  assert.ok(!plain.includes('-global'));
});

void test('Secure Boot firmware: the ms and snakeoil key sets are found as pairs; --firmware bios with it is refused', async () => {
  const ms = findSecureBootOvmf('amd64', 'ms');
  assert.match(ms.code, /secboot|\.ms\./);
  assert.match(ms.vars, /ms|secboot/);
  assert.match(findSecureBootOvmf('amd64', 'snakeoil').vars, /snakeoil/);
  assert.throws(() => findSecureBootOvmf('arm64', 'ms'), (e) => e instanceof UserError && /only amd64/.test(e.message));
  const dir = tempDir();
  await assert.rejects(boot({ image: emptyImage(dir), firmware: 'bios', secureBoot: 'ms', check: true, timeoutSeconds: 1 }), (e) => e instanceof UserError && e.message === '--secure-boot needs UEFI firmware; remove --firmware bios');
  fs.rmSync(dir, { recursive: true });
});

void test('an ISO boots first from a virtio-scsi CD drive, read-only; blank disks follow as writable virtio disks', () => {
  const args = qemuArgs({ ...base, image: '/images/live.iso', media: 'cd', disks: ['/tmp/k/disk0.raw'], interactive: false });
  const joined = args.join(' ');
  assert.ok(joined.includes('-device virtio-scsi-pci,id=scsi'));
  assert.ok(args.includes('if=none,id=cd,media=cdrom,readonly=on,format=raw,file=/images/live.iso'));
  assert.ok(args.includes('scsi-cd,drive=cd,bootindex=0'));
  assert.ok(args.includes('if=virtio,format=raw,file=/tmp/k/disk0.raw'));
  assert.ok(!joined.includes('snapshot=on,file=/images/live.iso'));
});

void test('isIso: "CD001" at byte 32769 marks an ISO 9660 image; a disk image is not one', () => {
  const dir = tempDir();
  try {
    const disk = emptyImage(dir);
    assert.equal(isIso(disk), false);
    const iso = path.join(dir, 'a.iso');
    const bytes = Buffer.alloc(64 * 1024);
    bytes.write('\x01CD001', 0x8000, 'latin1');
    fs.writeFileSync(iso, bytes);
    assert.equal(isIso(iso), true);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

void test("cpuModels reads QEMU's -cpu help: x86's and ARM's lists, without the CPUID flags after them", () => {
  const x86 = 'Available CPUs:\nx86 486                   (alias configured by machine type)\nx86 max                   Enables all features supported by the accelerator in the current host\nx86 qemu64                (alias configured by machine type)\n\nRecognized CPUID flags:\n  3dnow 3dnowext abm\n';
  assert.deepEqual(cpuModels(x86), ['486', 'max', 'qemu64']);
  assert.deepEqual(cpuModels('Available CPUs:\n  a64fx\n  cortex-a57\n  max\n'), ['a64fx', 'cortex-a57', 'max']);
});

void test('--cpu with a model QEMU does not have is bad input (exit 2) before QEMU starts; a model with features passes that check', async () => {
  const dir = tempDir();
  await assert.rejects(boot({ image: emptyImage(dir), cpu: 'foo', check: true, timeoutSeconds: 1 }), (e) => e instanceof UserError && /^--cpu foo: qemu-system-x86_64 has no CPU model "foo"\n {2}hint: e\.g\. /.test(e.message));
  // The model's check passes, so the next check (Secure Boot without UEFI) is what refuses it.
  await assert.rejects(boot({ image: emptyImage(dir), cpu: 'max,-svm', firmware: 'bios', secureBoot: 'ms', check: true, timeoutSeconds: 1 }), (e) => e instanceof UserError && e.message.startsWith('--secure-boot needs UEFI'));
  fs.rmSync(dir, { recursive: true });
});
