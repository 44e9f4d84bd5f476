import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { stageRecorder, type Call } from '../testing/stage-recorder.js';
import { BOOTSTRAP_TOOLS, essentialVersions, OWN_PERL, perlWrapper, prepared, preparedFiles, shownVersions } from './native-hook.js';
import { hostArch } from '../arch/host-arch.js';
import { fakeElf, fakeLoader } from '../testing/elf.js';
import { IMAGE_TOOLS, nativeToolbox, toolboxPrograms, tripletOf } from './native-tools.js';

const base = mkdtempSync(join(tmpdir(), 'kiln-native-hook-test-'));
after(() => rmSync(base, { recursive: true, force: true }));

void test("the perl wrapper runs the toolbox's perl, with the toolbox's perl-base modules", () => {
  const script = perlWrapper('aarch64-linux-gnu', 'x86_64-linux-gnu');
  assert.match(script, /^#!\/bin\/sh\n/);
  assert.match(script, /^exec \/run\/kiln-native\/kiln-bin\/perl -I \/run\/kiln-native\/usr\/lib\/x86_64-linux-gnu\/perl-base "\$@"$/m);
});

void test("once the root has compiled Perl modules of its own architecture, the wrapper runs the image's own perl (a real shell)", () => {
  const root = join(base, 'root');
  const own = join(base, 'own-perl');
  writeFileSync(own, '#!/bin/sh\necho own "$@"\n', { mode: 0o755 });
  // The wrapper's absolute paths, moved into the test's folder; the native exec line made an echo.
  const script = perlWrapper('aarch64-linux-gnu', 'x86_64-linux-gnu')
    .replace(/^exec \/run\/kiln-native.*$/m, 'exec echo native "$@"')
    .replaceAll('/usr/lib/', `${root}/usr/lib/`)
    .replace(OWN_PERL, own);
  const wrapper = join(base, 'perl');
  writeFileSync(wrapper, script, { mode: 0o755 });
  const call = () => execFileSync(wrapper, ['-w', 'frontend'], { encoding: 'utf8' }).trim();
  mkdirSync(join(root, 'usr/lib/aarch64-linux-gnu/perl-base'), { recursive: true });
  assert.equal(call(), 'native -w frontend', "perl-base's own modules are in the toolbox");
  mkdirSync(join(root, 'usr/lib/aarch64-linux-gnu/perl5/5.40'), { recursive: true });
  assert.equal(call(), 'own -w frontend');
});

/** mmdebstrap's part, played: the toolbox with the loader, perl, its modules and dpkg's programs. */
function extract(call: Call): void {
  if (call.command !== 'mmdebstrap') return;
  const into = call.args.at(-2) ?? '';
  const triplet = tripletOf(hostArch());
  const program = fakeElf(true, true, 62, '/lib64/ld-linux-x86-64.so.2');
  const files: [string, Buffer][] = [
    [`usr/lib/${triplet}/${hostArch() === 'arm64' ? 'ld-linux-aarch64.so.1' : 'ld-linux-x86-64.so.2'}`, fakeLoader(triplet)],
    [`usr/lib/${triplet}/perl-base/strict.pm`, Buffer.alloc(0)],
    ...['usr/bin/perl', 'usr/bin/dpkg-deb', 'usr/bin/dpkg-split', 'usr/bin/kmod'].map((p): [string, Buffer] => [p, program]),
  ];
  for (const [file, bytes] of files) {
    mkdirSync(join(into, file, '..'), { recursive: true });
    writeFileSync(join(into, file), bytes);
  }
}

void test("the bootstrap's toolbox has the image's perl-base and dpkg, and nothing of the kernel stage's", async () => {
  const r = stageRecorder(extract);
  r.write('var/lib/dpkg/status', ['perl-base 5.40.1-6', 'dpkg 1.22.22', 'kmod 34.2-2'].map((p) => `Package: ${p.split(' ')[0]}\nStatus: install ok installed\nArchitecture: arm64\nVersion: ${p.split(' ')[1]}\n`).join('\n'));
  const toolbox = await nativeToolbox(r.ctx, { release: 'trixie', mirror: 'http://deb.debian.org/debian', components: ['main'] }, BOOTSTRAP_TOOLS);
  assert.ok(toolbox);
  const made = r.calls.filter((c) => c.command === 'mmdebstrap');
  assert.ok(made[0]?.args.includes('--include=perl-base=5.40.1-6,dpkg=1.22.22') || made[0]?.args.includes('--include=dpkg=1.22.22,perl-base=5.40.1-6'), made[0]?.args.join(' '));
  assert.deepEqual(toolboxPrograms(toolbox), ['dpkg-deb', 'dpkg-split', 'perl']);
  assert.ok(readFileSync(join(toolbox, 'kiln-bin/perl')).includes('/run/kiln-native/ld\0'));
});

void test("the extract hook reads the versions from mmdebstrap's list of essential .debs, epochs decoded", () => {
  assert.deepEqual(essentialVersions('/var/cache/apt/archives/dpkg_1.22.22_arm64.deb /var/cache/apt/archives/perl-base_5.40.1-6_arm64.deb /var/cache/apt/archives/bsdutils_1%3a2.41.5-0_arm64.deb'), {
    dpkg: '1.22.22',
    'perl-base': '5.40.1-6',
    bsdutils: '1:2.41.5-0',
  });
  assert.deepEqual(essentialVersions(''), {});
});

void test("the kernel stage's packages' versions come from apt-cache's answer, the ones it has none of left out", () => {
  const shown = 'Package: kmod\nArchitecture: arm64\nVersion: 34.2-2\nDepends: libc6\n\nPackage: udev\nVersion: 257.13-1~deb13u1\n\nPackage: other\nVersion: 1\n';
  assert.deepEqual(shownVersions(shown, ['kmod', 'udev', 'dracut-install']), { kmod: '34.2-2', udev: '257.13-1~deb13u1' });
});

void test("the bootstrap's toolbox, made with the kernel stage's packages too, serves the kernel stage: one toolbox a build", async () => {
  const r = stageRecorder(extract);
  const source = { release: 'trixie', mirror: 'http://deb.debian.org/debian', components: ['main'] };
  const both = await nativeToolbox(r.ctx, source, [...BOOTSTRAP_TOOLS, ...IMAGE_TOOLS], { 'perl-base': '5.40.1-6', dpkg: '1.22.22', kmod: '34.2-2' });
  assert.ok(both);
  r.write('var/lib/dpkg/status', ['kmod 34.2-2', 'perl-base 5.40.1-6'].map((p) => `Package: ${p.split(' ')[0]}\nStatus: install ok installed\nArchitecture: arm64\nVersion: ${p.split(' ')[1]}\n`).join('\n'));
  r.calls.length = 0;
  assert.equal(await nativeToolbox(r.ctx, source), both);
  assert.equal(r.calls.filter((c) => c.command === 'mmdebstrap').length, 0);
  assert.match(r.logs.at(-1) ?? '', /toolbox of kmod=34\.2-2 \(kept from an earlier build, with more in it\)/);
  // Another version of one of its packages is another toolbox.
  r.write('var/lib/dpkg/status', 'Package: kmod\nStatus: install ok installed\nArchitecture: arm64\nVersion: 34.2-3\n');
  assert.notEqual(await nativeToolbox(r.ctx, source), both);
  assert.equal(r.calls.filter((c) => c.command === 'mmdebstrap').length, 1);
});

// The time limit turns a wait for a process that is gone into a failure, not a hung suite.
void test("the extract hook waits for the background toolbox's shell to end, then passes its log on; a shell that is gone is not waited for", { timeout: 60_000 }, async () => {
  const scratch = mkdtempSync(join(base, 'prepared-'));
  const files = preparedFiles(scratch);
  const lines: string[] = [];
  await prepared(scratch, (line) => lines.push(line));
  assert.equal(lines.length, 0, 'no background toolbox was started');
  // The setup hook's shell, played: it logs, ends a little later and marks its end.
  const shell = spawn('sh', ['-c', `sleep 0.3; echo 'native programs: amd64 toolbox of dash=1' > '${files.log}'; touch '${files.done}'`]);
  writeFileSync(files.pid, `${shell.pid}\n`);
  await prepared(scratch, (line) => lines.push(line));
  assert.deepEqual(lines, ['native programs: amd64 toolbox of dash=1']);
  // Killed before it marked its end: its pid names no process once it is reaped.
  rmSync(files.done);
  const killed = spawn('sleep', ['30']);
  writeFileSync(files.pid, `${killed.pid}\n`);
  killed.kill();
  await new Promise((resolve) => killed.once('exit', resolve));
  const late: string[] = [];
  await prepared(scratch, (line) => late.push(line));
  assert.deepEqual(late, ['native programs: amd64 toolbox of dash=1'], 'the log it left is passed on');
});
