/**
 * The installer ISO: the live ISO's system (the image's own tree, booted with live-boot) carrying
 * the raw disk image, its block map and kiln's installer, which a systemd unit runs before anyone
 * can log in. The raw image rides inside the squashfs: compressed, with its holes stored as holes.
 */
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import type { ImageDigest } from '../host/sparse-hash.js';
import { bmapXml } from './bmap.js';
import { pseudoFile, writeLiveIso, type IsoContext } from './iso.js';
import type { LiveBoot } from './iso-boot.js';

/** The installer, run on the target machine (bash, coreutils, util-linux from the image itself). */
export const INSTALLER_SCRIPT = readFileSync(new URL('../../../src/outputs/installer/kiln-install.sh', import.meta.url), 'utf8');
/** Its sha256: in the outputs stage's options, so a changed installer is a new stage. */
export const INSTALLER_SCRIPT_SHA256 = createHash('sha256').update(INSTALLER_SCRIPT).digest('hex');

/** Where the payload and the installer's settings are in the live system. */
export const INSTALL_DIR = 'kiln-install';
export const INSTALLER_UNIT = 'kiln-installer.service';

export interface InstallerSettings {
  target: string;
  confirm: boolean;
  poweroff: boolean;
  /** The partition (1-based) that takes the rest of the disk, and its file system; null: none. */
  grow: { partition: number; fs: string } | null;
}

/**
 * Started by the kernel command line (systemd.wants=), so the image's tree needs no change; ordered
 * before logins, writing to the console, so the user sees progress. Only `confirm` reads the
 * console: a unit whose input is the terminal becomes its controlling process and waits for any
 * other to let go of it, a wait an unattended install has no reason to risk; output alone never waits.
 */
export function installerUnit(confirm: boolean): string {
  return [
    '# Written by kiln into the installer ISO (not into the installed image).',
    '[Unit]',
    'Description=kiln installer: write the image onto this machine\'s disk',
    'After=local-fs.target systemd-udevd.service',
    'Before=systemd-user-sessions.service',
    '',
    '[Service]',
    'Type=oneshot',
    `ExecStart=/bin/bash /${INSTALL_DIR}/kiln-install`,
    `StandardInput=${confirm ? 'tty' : 'null'}`,
    'StandardOutput=tty',
    'StandardError=tty',
    'TTYPath=/dev/console',
    '',
  ].join('\n');
}

/** installer.conf: read by the installer's main(). Values are plain words and numbers. */
export function installerConfig(name: string, image: string, digest: ImageDigest, settings: InstallerSettings): string {
  // In bytes, as the installer counts them: the last block may end with the image.
  const mapped = digest.ranges.reduce((n, r) => n + Math.min((r.last + 1) * digest.blockSize, digest.size) - r.first * digest.blockSize, 0);
  return [
    `IMAGE_NAME=${name}`,
    `IMAGE=${image}`,
    `IMAGE_SIZE=${digest.size}`,
    `BLOCK_SIZE=${digest.blockSize}`,
    `MAPPED=${mapped}`,
    `TARGET=${settings.target}`,
    `CONFIRM=${settings.confirm ? 1 : 0}`,
    `POWEROFF=${settings.poweroff ? 1 : 0}`,
    `GROW_PARTITION=${settings.grow?.partition ?? ''}`,
    `GROW_FS=${settings.grow?.fs ?? ''}`,
    '',
  ].join('\n');
}

/** The block map's ranges, one "FIRST LAST SHA256" line each (blocks), for the installer's loops. */
export function rangeList(digest: ImageDigest): string {
  return digest.ranges.map((r) => `${r.first} ${r.last} ${r.sha256}\n`).join('');
}

/** Writes `file` (an installer ISO) with `raw` (a path) as its payload. */
export async function writeInstallerIso(ctx: IsoContext, file: string, live: LiveBoot, raw: { path: string; name: string; digest: ImageDigest }, settings: InstallerSettings): Promise<void> {
  const folder = join(ctx.scratch, 'installer');
  await mkdir(folder, { recursive: true });
  const payload = {
    'installer.conf': installerConfig(live.title, raw.name, raw.digest, settings),
    ranges: rangeList(raw.digest),
    [`${raw.name}.bmap`]: bmapXml(raw.digest),
    'kiln-install': INSTALLER_SCRIPT,
    unit: installerUnit(settings.confirm),
  };
  for (const [name, text] of Object.entries(payload)) await writeFile(join(folder, name), text);
  const pseudo = [
    `${INSTALL_DIR} d 755 0 0`,
    pseudoFile(`${INSTALL_DIR}/${raw.name}`, '644', raw.path),
    ...['installer.conf', 'ranges', `${raw.name}.bmap`].map((n) => pseudoFile(`${INSTALL_DIR}/${n}`, '644', join(folder, n))),
    pseudoFile(`${INSTALL_DIR}/kiln-install`, '755', join(folder, 'kiln-install')),
    pseudoFile(`etc/systemd/system/${INSTALLER_UNIT}`, '644', join(folder, 'unit')),
  ];
  await writeLiveIso(ctx, file, { ...live, cmdline: [...live.cmdline, `systemd.wants=${INSTALLER_UNIT}`] }, { medium: 'installer-iso', pseudo, menu: 'install' });
}
