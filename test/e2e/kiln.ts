/** Helpers for end-to-end tests: run the real kiln command and look inside the images it makes. */
import { spawn, spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readBuildRecord, type BuildRecordCore } from '../../src/engine/build-record.js';
import { readSfdisk } from '../../src/host/sfdisk.js';

export const REPO = fileURLToPath(new URL('../../../', import.meta.url));
/** The kiln of the build these tests were compiled with (dist/, or another --outDir). */
export const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

const made: string[] = [];
// Builds leave gigabytes (images, stage caches): every test file removes its folders when it ends,
// or a machine that runs the suite again and again fills up. KILN_E2E_KEEP=1 keeps them to look at.
process.on('exit', () => {
  if (process.env.KILN_E2E_KEEP) return;
  for (const dir of made) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch (err) {
      process.stderr.write(`could not remove ${dir}: ${String(err)}\n`);
    }
  }
});

export function scratch(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `kiln-e2e-${name}-`));
  made.push(dir);
  return dir;
}

/**
 * The stage store and package cache for a test file that is not about caching. `npm run test:e2e`
 * gives every such file one shared folder (KILN_E2E_CACHE), so identical first stages are built
 * and each .deb downloaded once for the whole suite; the store's entry locks and atomic renames
 * make two files building at once safe. Run alone, a file gets a folder of its own.
 * Files that count cache hits, downloads or processes naming their cache keep their own (scratch).
 */
export function sharedCache(name: string): string {
  return process.env.KILN_E2E_CACHE || scratch(`${name}-cache`);
}

/**
 * A cache folder of the file's own whose stage store, entry locks and package cache are the
 * suite's shared ones (symbolic links; the store lock too, so prune and trash-emptying still wait
 * for every build). For files that tell their own builds' processes, mounts and workspaces apart
 * by the cache folder's path (KILN_CACHE, builds/) but build first stages other files build too.
 * Run alone, a file gets a whole folder of its own.
 */
export function linkedCache(name: string): string {
  const own = scratch(`${name}-cache`);
  const shared = process.env.KILN_E2E_CACHE;
  if (!shared) return own;
  for (const folder of ['stages', 'locks', 'packages', 'apt-lists']) {
    mkdirSync(join(shared, folder), { recursive: true });
    symlinkSync(join(shared, folder), join(own, folder));
  }
  writeFileSync(join(shared, 'store.lock'), '', { flag: 'a' });
  symlinkSync(join(shared, 'store.lock'), join(own, 'store.lock'));
  return own;
}

/**
 * Runs kiln to completion; output is also echoed so a CI log shows what a long build did.
 * NO_COLOR because a CI runner may set FORCE_COLOR, and assertions read plain text.
 */
export function kiln(args: string[], env: Record<string, string> = {}, onStart?: (pid: number) => void): Promise<Run> {
  return kilnUnder([], args, env, onStart);
}

/** kiln run by another command (`prefix`), e.g. inside namespaces of its own. */
export function kilnUnder(prefix: string[], args: string[], env: Record<string, string> = {}, onStart?: (pid: number) => void): Promise<Run> {
  const [command = process.execPath, ...rest] = [...prefix, process.execPath, MAIN, ...args];
  return new Promise((resolve) => {
    const child = spawn(command, rest, { cwd: REPO, env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    if (child.pid && onStart) onStart(child.pid);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (process.env.KILN_E2E_VERBOSE) process.stderr.write(d);
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export function run(command: string, args: string[]): string {
  const result = spawnSync(command, args, { encoding: 'utf8', env: { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin`, MTOOLS_SKIP_CHECK: '1' } });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.status ?? result.signal}): ${result.stderr}`);
  return result.stdout;
}

export interface SfdiskPartition {
  start: number;
  size: number;
  name: string;
  uuid: string;
}

/** The partition table of an image, as sfdisk (not kiln) reads it; MBR partitions have no name or uuid (""). */
export function partitions(image: string): SfdiskPartition[] {
  const table = readSfdisk(image);
  if (!table) throw new Error(`sfdisk finds no partition table in ${image}`);
  return table.partitions.map(({ start, size, name = '', uuid = '' }) => ({ start, size, name, uuid }));
}

/** The build.json of an output folder, checked against the record's schema (its core). */
export function buildRecord(outputDir: string): BuildRecordCore {
  return readBuildRecord(join(outputDir, 'build.json'));
}

/** Reads inside an image's ext4 partition with debugfs, without mounting anything. */
export class Ext4 {
  /** debugfs's name for the partition: the image with its byte offset. */
  readonly spec: string;
  constructor(image: string, partition: SfdiskPartition) {
    this.spec = `${image}?offset=${partition.start * 512}`;
  }
  cat(path: string): string {
    return run('debugfs', ['-R', `cat ${path}`, this.spec]);
  }
  /** "mode uid gid" of a path, e.g. "120777 0 0" for a symlink. */
  stat(path: string): string {
    const out = run('debugfs', ['-R', `stat ${path}`, this.spec]);
    const mode = /Mode:\s+(\d+)/.exec(out)?.[1] ?? '?';
    const type = /Type: (\w+)/.exec(out)?.[1] ?? '?';
    const uid = /User:\s+(\d+)/.exec(out)?.[1] ?? '?';
    return `${type} ${mode} ${uid}`;
  }
  exists(path: string): boolean {
    return !/File not found/.test(spawnSync('debugfs', ['-R', `stat ${path}`, this.spec], { encoding: 'utf8' }).stderr);
  }
}

/** Reads a file from an image's FAT partition with mtools. */
export function fatFile(image: string, partition: SfdiskPartition, path: string): string {
  return run('mtype', ['-i', `${image}@@${partition.start * 512}`, `::${path}`]);
}

/** A blank raw disk of `bytes` (sparse: it costs only what a guest writes to it). */
export function blankDisk(path: string, bytes: number): string {
  writeFileSync(path, '');
  truncateSync(path, bytes);
  return path;
}

export function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}
/**
 * Failures that come from software emulation on a busy 2-core host, not from the image: QEMU's
 * TCG sometimes lets a vCPU run an int3 the kernel already patched away (an x86 kernel oops in an
 * idle or allocator function), and udev starved of CPU misses systemd's 90 s device timeout.
 */
export const EMULATION_FLAKES = [/Oops: int3/, /Timed out waiting for device/];

/**
 * Boots an image under QEMU until a login prompt; returns the serial console's log. A boot that
 * fails with one of the emulation flakes above is tried once more, saying so in the test log;
 * a second failure fails the test.
 */
export async function bootCheck(image: string, extra: string[] = []) {
  const log = `${image}.boot.log`;
  let booted = await kiln(['boot', image, '--check', '--timeout', '900', '--log', log, ...extra]);
  const first = existsSync(log) ? readFileSync(log, 'utf8') : '';
  const flake = booted.code !== 0 ? EMULATION_FLAKES.find((p) => p.test(first)) : undefined;
  if (flake) {
    process.stderr.write(`bootCheck: ${image} failed with an emulation flake (${flake.source}); booting once more\n`);
    writeFileSync(`${log}.first`, first);
    booted = await kiln(['boot', image, '--check', '--timeout', '900', '--log', log, ...extra]);
  }
  assert.equal(booted.code, 0, `boot check failed:\n${booted.stderr}\n${existsSync(log) ? readFileSync(log, 'utf8').slice(-3000) : ''}`);
  assert.match(booted.stdout, /boot check passed: login/);
  return readFileSync(log, 'utf8');
}

/**
 * Asserts that the console shows `host`'s getty prompt. getty writes the host name and " login: "
 * separately, so a kernel message can land between them ("bios-mbr[ 33.4] scsi host2: ahci\r\n
 * login: "); kernel lines are taken out before matching.
 */
export function assertLoginPrompt(console: string, host: string): void {
  const withoutKernel = console.replace(/\[\s*\d+\.\d+\][^\n]*\n/g, '');
  assert.match(withoutKernel, new RegExp(`${host} login:`), `no "${host} login:" prompt on the console`);
}

/** Console text without colour codes. */
export function plain(text: string): string {
  return text.replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'), '');
}
