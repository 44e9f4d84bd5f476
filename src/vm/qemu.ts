/**
 * Boots a built image under QEMU, either wired to the user's terminal or unattended (`--check`)
 * with the serial console watched for a login prompt, a panic or the emergency shell.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { readBuildRecord } from '../engine/build-record.js';
import { BuildError, InterruptedError, UserError } from '../errors.js';
import { ARCH_NAMES, archInfo, type ArchName } from '../arch/table.js';
import { ConsoleWatcher } from './console-watch.js';
import { prepareRaspiBoot, raspiArgs, raspiFirmwareOffset } from './raspi.js';

export type Firmware = 'uefi' | 'bios';
/** Which keys the Secure Boot firmware's variable store has enrolled. */
export type FirmwareVars = 'ms' | 'snakeoil';

export interface BootOptions {
  /** A disk image, or an ISO (attached as a CD). */
  image: string;
  /** Disks attached after it, where an installer writes: a size in bytes is a blank sparse file thrown away after, a path is the user's own raw file. */
  blankDisks?: (number | string)[];
  /** The image's architecture: QEMU binary, machine and firmware come from the table. */
  arch?: ArchName;
  /** uefi: OVMF; bios: QEMU's SeaBIOS. */
  firmware?: Firmware;
  /** Secure Boot enforced: OVMF's secboot code (SMM) with these keys enrolled; absent: off. */
  secureBoot?: FirmwareVars;
  check: boolean;
  timeoutSeconds: number;
  memoryMiB?: number;
  /** QEMU's -cpu model instead of the architecture's (e.g. max, for software that needs AVX). */
  cpu?: string;
  logFile?: string;
  signal?: AbortSignal;
  onOutput?: (chunk: string) => void;
}

export interface BootResult {
  result: 'login' | 'panic' | 'emergency' | 'no-boot' | 'refused' | 'timeout' | 'exited';
  seconds: number;
  logFile: string;
}

export interface QemuArgsOptions {
  arch?: ArchName;
  image: string;
  format: 'raw' | 'qcow2';
  /** cd: the image is an ISO on a virtio-scsi CD drive, booted first (the vm layer's drivers read it). */
  media?: 'disk' | 'cd';
  /** More raw disks, written to (an installer's target). */
  disks?: string[];
  /** OVMF's code and a private copy of its variables; absent: boot with SeaBIOS. */
  ovmf?: { code: string; varsCopy: string };
  /** The firmware enforces Secure Boot: it needs SMM and a flash only SMM may write. */
  secureBoot?: boolean;
  memoryMiB: number;
  /** QEMU's -cpu model instead of the architecture's. */
  cpu?: string;
  interactive: boolean;
  /** Interactive only: QEMU itself tees the console here, since stdio belongs to the user. */
  logFile?: string;
  /**
   * The guest's writes go to the image itself and a guest reboot restarts it (a test of updates
   * that boots a device several times). Default: writes are thrown away and a reboot ends QEMU.
   */
  persistent?: boolean;
}

const KILL_GRACE_MS = 5000;
const STDERR_TAIL_LINES = 20;

/** Locates the UEFI firmware of an architecture (OVMF for PCs, AAVMF for ARM). */
export function findOvmf(arch: ArchName = 'amd64'): { code: string; vars: string } {
  const { firmware, firmwarePackage } = archInfo(arch).qemu;
  for (const pair of firmware) {
    if (fs.existsSync(pair.code) && fs.existsSync(pair.vars)) return pair;
  }
  throw new UserError(
    `UEFI firmware for ${arch} not found (looked for ${firmware.map((p) => p.code).join(', ')})\n` +
      `  hint: install the Debian package '${firmwarePackage}', e.g. with 'kiln doctor --install'`,
  );
}

/**
 * Locates Secure Boot firmware: OVMF's SMM build and a VARS template with `keys` enrolled. Paths
 * differ between distributions, so the table lists several; the first pair that exists wins.
 */
export function findSecureBootOvmf(arch: ArchName, keys: FirmwareVars): { code: string; vars: string } {
  const { secureBoot, firmwarePackage } = archInfo(arch).qemu;
  if (!secureBoot) throw new UserError(`--secure-boot: kiln has no Secure Boot firmware for ${arch} (only amd64: OVMF)`);
  const pair = secureBoot[keys].find((p) => fs.existsSync(p.code) && fs.existsSync(p.vars));
  if (pair) return pair;
  throw new UserError(
    `Secure Boot firmware with ${keys === 'ms' ? "Microsoft's" : 'the snakeoil test'} keys not found (looked for ${secureBoot[keys].map((p) => p.vars).join(', ')})\n` +
      `  hint: install the Debian package '${firmwarePackage}' (its OVMF_CODE_4M.secboot.fd and OVMF_VARS_4M.${keys}.fd), e.g. with 'kiln doctor --install'`,
  );
}

/** The architecture of an image kiln built: build.json beside it says; amd64 otherwise. */
export function archOfImage(image: string): ArchName {
  try {
    const { arch } = readBuildRecord(path.join(path.dirname(image), 'build.json'));
    const known = ARCH_NAMES.find((name) => name === arch);
    if (known) return known;
  } catch {
    // No build record beside it: an image from elsewhere.
  }
  return 'amd64';
}

/** qcow2 images start with the magic "QFI\xfb"; anything else is treated as a raw disk. */
export function detectFormat(image: string): 'raw' | 'qcow2' {
  const fd = fs.openSync(image, 'r');
  try {
    const magic = Buffer.alloc(4);
    const read = fs.readSync(fd, magic, 0, 4, 0);
    return read === 4 && magic.equals(Buffer.from([0x51, 0x46, 0x49, 0xfb])) ? 'qcow2' : 'raw';
  } finally {
    fs.closeSync(fd);
  }
}

/** An ISO 9660 image has "CD001" at byte 32769 (its primary volume descriptor). */
export function isIso(image: string): boolean {
  const fd = fs.openSync(image, 'r');
  try {
    const magic = Buffer.alloc(5);
    return fs.readSync(fd, magic, 0, 5, 0x8001) === 5 && magic.toString('latin1') === 'CD001';
  } finally {
    fs.closeSync(fd);
  }
}

/** QEMU's option parser splits on commas; a literal comma in a value is written twice. */
function optValue(value: string): string {
  return value.replaceAll(',', ',,');
}

export function qemuArgs(opts: QemuArgsOptions): string[] {
  const { cpu } = opts;
  const table = archInfo(opts.arch ?? 'amd64').qemu.args;
  const machine = cpu === undefined ? table : table.map((a, i) => (table[i - 1] === '-cpu' ? cpu : a));
  const args = [
    // KVM hangs on the build hosts we target; TCG is slower but always works.
    // Secure Boot: OVMF's secboot build keeps its variables in SMM, or the OS could rewrite the keys.
    ...(opts.secureBoot ? machine.map((a, i) => (machine[i - 1] === '-machine' ? `${a},smm=on` : a)) : machine),
    ...(opts.secureBoot ? ['-global', 'driver=cfi.pflash01,property=secure,value=on'] : []),
    '-accel', 'tcg', '-smp', '2', '-m', String(opts.memoryMiB),
    ...(opts.ovmf
      ? ['-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${optValue(opts.ovmf.code)}`, '-drive', `if=pflash,format=raw,unit=1,file=${optValue(opts.ovmf.varsCopy)}`]
      : []),
    ...(opts.media === 'cd'
      ? ['-device', 'virtio-scsi-pci,id=scsi', '-drive', `if=none,id=cd,media=cdrom,readonly=on,format=raw,file=${optValue(opts.image)}`, '-device', 'scsi-cd,drive=cd,bootindex=0']
      : // snapshot=on sends every guest write to a throwaway overlay: booting never alters the image.
        ['-drive', `if=virtio,format=${opts.format}${opts.persistent ? '' : ',snapshot=on'},file=${optValue(opts.image)}`]),
    ...(opts.disks ?? []).flatMap((disk) => ['-drive', `if=virtio,format=raw,file=${optValue(disk)}`]),
    '-nic', 'user,model=virtio-net-pci',
    // A guest reboot would loop forever in --check; ending QEMU turns it into a visible 'exited'.
    ...(opts.persistent ? [] : ['-no-reboot']),
  ];
  if (!opts.interactive) {
    args.push('-display', 'none', '-serial', 'stdio', '-monitor', 'none');
  } else if (opts.logFile === undefined) {
    args.push('-nographic', '-serial', 'mon:stdio');
  } else {
    // Same as `-serial mon:stdio` (signal=off lets Ctrl-C reach the guest), plus a console log.
    args.push(
      '-nographic',
      '-chardev', `stdio,id=console,mux=on,signal=off,logfile=${optValue(opts.logFile)}`,
      '-serial', 'chardev:console',
      '-mon', 'chardev=console',
    );
  }
  return args;
}

function findOnPath(name: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new InterruptedError(typeof reason === 'string' ? reason : 'abort');
}

/**
 * The CPU models `qemu-system-* -cpu help` lists: x86's lines are `x86 NAME  description`,
 * ARM's `  NAME`; the list ends at the first empty line (CPUID flags follow on x86).
 */
export function cpuModels(help: string): string[] {
  const lines = help.split('\n');
  const start = lines.findIndex((l) => l.startsWith('Available CPUs'));
  const end = lines.findIndex((l, i) => i > start && l.trim() === '');
  return lines
    .slice(start + 1, end < 0 ? undefined : end)
    .map((l) => l.trim().split(/\s+/))
    .map((words) => (words[0] === 'x86' ? words[1] : words[0]) ?? '')
    .filter((name) => name !== '');
}

/** Bad input before QEMU starts: its own message would come as a failed boot (exit 1). */
async function checkCpuModel(qemu: string, cpu: string): Promise<void> {
  // A model may carry features after commas (max,-svm,-vmx).
  const model = cpu.split(',')[0] ?? '';
  // A QEMU that cannot list its models says what is wrong itself when it starts.
  const { stdout } = await execa(qemu, ['-cpu', 'help'], { reject: false });
  const models = cpuModels(stdout ?? '');
  if (models.length && !models.includes(model)) {
    const like = models.filter((m) => m.toLowerCase().includes(model.toLowerCase().slice(0, 3))).slice(0, 5);
    const hint = like.length ? like.join(', ') : models.filter((m) => ['qemu64', 'max', 'cortex-a57', 'cortex-a72'].includes(m)).join(', ');
    throw new UserError(`--cpu ${cpu}: ${path.basename(qemu)} has no CPU model ${JSON.stringify(model)}\n  hint: e.g. ${hint}; '${path.basename(qemu)} -cpu help' lists them all`);
  }
}

export async function boot(opts: BootOptions): Promise<BootResult> {
  if (!fs.existsSync(opts.image)) {
    throw new UserError(`${opts.image}: no such file\n  hint: build an image first with 'kiln build', or check the path`);
  }
  if (!fs.statSync(opts.image).isFile() && !fs.statSync(opts.image).isBlockDevice()) {
    throw new UserError(`${opts.image}: not a disk image file`);
  }
  const arch = opts.arch ?? archOfImage(opts.image);
  const { binary, systemPackage } = archInfo(arch).qemu;
  const qemu = findOnPath(binary);
  if (qemu === undefined) {
    throw new UserError(`${binary} not found on PATH\n  hint: install the Debian package '${systemPackage}', e.g. with 'kiln doctor --install'`);
  }
  if (opts.cpu !== undefined) await checkCpuModel(qemu, opts.cpu);
  if (opts.firmware === 'bios' && !archInfo(arch).grubBios) throw new UserError(`--firmware bios: ${arch} machines have no BIOS; they boot with UEFI`);
  if (opts.firmware === 'bios' && opts.secureBoot) throw new UserError('--secure-boot needs UEFI firmware; remove --firmware bios');
  const ovmf = opts.firmware === 'bios' ? undefined : opts.secureBoot ? findSecureBootOvmf(arch, opts.secureBoot) : findOvmf(arch);
  if (opts.signal?.aborted) throw abortError(opts.signal);

  const logFile = opts.logFile ?? `${opts.image}.boot.log`;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-boot-'));
  try {
    // OVMF writes boot entries into its VARS store; a private copy keeps the system one pristine.
    const varsCopy = path.join(tmp, 'OVMF_VARS.fd');
    if (ovmf) fs.copyFileSync(ovmf.vars, varsCopy);
    const iso = isIso(opts.image);
    const raspi = arch === 'arm64' && !iso && detectFormat(opts.image) === 'raw' ? await raspiFirmwareOffset(opts.image) : undefined;
    if (raspi !== undefined && opts.cpu) throw new UserError(`--cpu ${opts.cpu}: a Raspberry Pi image boots on QEMU's raspi3b machine, whose CPU is fixed; leave --cpu out`);
    // Sparse: an 8 GiB blank disk costs only what the guest writes.
    const disks = (opts.blankDisks ?? []).map((bytes, i) => {
      if (typeof bytes === 'string') return bytes;
      const disk = path.join(tmp, `disk${i}.raw`);
      fs.writeFileSync(disk, '');
      fs.truncateSync(disk, bytes);
      return disk;
    });
    const args =
      raspi === undefined
        ? qemuArgs({
            arch,
            image: opts.image,
            format: iso ? 'raw' : detectFormat(opts.image),
            media: iso ? 'cd' : 'disk',
            disks,
            ...(ovmf ? { ovmf: { code: ovmf.code, varsCopy } } : {}),
            ...(opts.secureBoot ? { secureBoot: true } : {}),
            memoryMiB: opts.memoryMiB ?? 1024,
            ...(opts.cpu ? { cpu: opts.cpu } : {}),
            interactive: !opts.check,
            logFile,
          })
        : raspiArgs(await prepareRaspiBoot(opts.image, raspi, tmp), !opts.check);
    return await runQemu(qemu, args, opts, logFile, tmp);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

async function runQemu(
  qemu: string,
  args: string[],
  opts: BootOptions,
  logFile: string,
  tmp: string,
): Promise<BootResult> {
  let log: number;
  try {
    log = fs.openSync(logFile, 'w');
  } catch (err) {
    throw new UserError(`cannot write boot log ${logFile}: ${(err as Error).message}`);
  }
  // Interactive mode: QEMU writes the log itself through the chardev.
  if (!opts.check) fs.closeSync(log);

  const started = Date.now();
  const elapsed = (): number => Math.round((Date.now() - started) / 100) / 10;
  const child = execa(qemu, args, {
    stdin: opts.check ? 'pipe' : 'inherit',
    stdout: opts.check ? 'pipe' : 'inherit',
    stderr: opts.check ? 'pipe' : 'inherit',
    buffer: false,
    reject: false,
    // SIGTERM lets QEMU exit cleanly (and restore the terminal); a wedged one is SIGKILLed later.
    forceKillAfterDelay: KILL_GRACE_MS,
  });
  // 'exit' handlers run synchronously with no time to wait for QEMU, so nothing can escalate later:
  // SIGKILL an unattended QEMU; an interactive one gets SIGTERM so it restores the user's terminal.
  // boot()'s finally never runs on process.exit(), so the VARS copy is removed here too.
  const exitGuard = (): void => {
    child.kill(opts.check ? 'SIGKILL' : 'SIGTERM');
    fs.rmSync(tmp, { recursive: true, force: true });
  };
  process.on('exit', exitGuard);

  let verdict: BootResult['result'] | undefined;
  let seconds: number | undefined;
  let stopping = false;
  const stop = (result: BootResult['result'] | undefined): void => {
    if (stopping) return;
    stopping = true;
    verdict = result;
    seconds = elapsed();
    child.kill('SIGTERM');
  };
  const onAbort = (): void => stop(undefined);
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  // setTimeout fires at once for delays beyond 2^31-1 ms.
  const timeoutMs = Math.min(opts.timeoutSeconds * 1000, 2 ** 31 - 1);
  const timer = opts.check ? setTimeout(() => stop('timeout'), timeoutMs) : undefined;

  const stderrTail: string[] = [];
  if (opts.check) {
    const watcher = new ConsoleWatcher();
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      fs.writeSync(log, chunk);
      opts.onOutput?.(chunk);
      const found = watcher.push(chunk);
      if (found !== undefined) stop(found);
    });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      fs.writeSync(log, chunk);
      stderrTail.push(...chunk.split('\n').filter((l) => l.trim() !== ''));
      stderrTail.splice(0, Math.max(0, stderrTail.length - STDERR_TAIL_LINES));
    });
  }

  try {
    const result = await child;
    seconds ??= elapsed();
    if (opts.signal?.aborted) throw abortError(opts.signal);
    if (stopping) return { result: verdict ?? 'exited', seconds, logFile };
    if (result.exitCode !== 0) {
      const how =
        result.signal !== undefined
          ? `was killed by ${result.signal}`
          : result.exitCode !== undefined
            ? `exited with code ${result.exitCode}`
            : `could not be started: ${result.shortMessage}`;
      throw new BuildError(`${path.basename(qemu)} ${how}`, 'boot', [qemu, ...args].join(' '), stderrTail);
    }
    return { result: 'exited', seconds, logFile };
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
    process.removeListener('exit', exitGuard);
    if (opts.check) fs.closeSync(log);
  }
}
