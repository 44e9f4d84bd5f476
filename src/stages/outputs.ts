/**
 * Turns the disk image and the root tree into the files the recipe asks for: the raw image with
 * its block map, qcow2/vmdk/vhdx/vdi through qemu-img, a tar of the root, an OCI layout and a
 * docker-archive, a live ISO; `compress` applies to raw and tar. Its files are exactly the build's outputs.
 */
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { digestFile, sha256File } from '../host/sparse-hash.js';
import { DISK_FORMATS } from '../recipe/schema.js';
import { bmapXml } from '../outputs/bmap.js';
import { writeDockerArchiveTree, writeOciLayout } from '../outputs/oci.js';
import { writeLiveIso } from '../outputs/iso.js';
import { writeInstallerIso } from '../outputs/installer.js';
import { defineStage, sourceDateEpoch, type StageContext } from './define.js';
import type { OutputFile } from './facts.js';

export const COMPRESSORS: Record<string, { ext: string; command: string; args: string[] }> = {
  zstd: { ext: 'zst', command: 'zstd', args: ['-q', '-T0', '--rm'] },
  xz: { ext: 'xz', command: 'xz', args: ['-T0', '-6'] },
  gzip: { ext: 'gz', command: 'gzip', args: ['-6', '-n'] },
};
/** qemu-img's format options: vmdk as a single growing file, the others dynamic. */
const QEMU_OPTIONS: Record<string, string[]> = { qcow2: [], vmdk: ['-o', 'subformat=monolithicSparse'], vhdx: ['-o', 'subformat=dynamic'], vdi: ['-o', 'static=off'] };

const Options = z.strictObject({
  name: z.string(),
  arch: z.string(),
  /** The disk image the image stages made, if the recipe has a disk. */
  image: z.string().nullable(),
  formats: z.array(z.string()),
  compress: z.string(),
  /** With the iso or installer-iso output: how the live system boots. */
  live: z.strictObject({ label: z.string(), title: z.string(), cmdline: z.array(z.string()) }).nullable(),
  /** With installer-iso: its volume label, how it installs, and the installer's sha256 (a new installer is a new stage). */
  installer: z
    .strictObject({
      label: z.string(),
      target: z.string(),
      confirm: z.boolean(),
      poweroff: z.boolean(),
      grow: z.strictObject({ partition: z.number().int(), fs: z.string() }).nullable(),
      script: z.string(),
    })
    .nullable(),
  /** disk.layout ab: the partition whose file system is the update image (NAME.slot.img) for either slot. */
  slot: z.string().nullable().default(null),
});

export const outputs = defineStage({
  name: 'outputs',
  // 6: squashfs at zstd level 6 (src/host/squashfs.ts).
  version: 6,
  kind: 'image',
  summary: 'Writes every output: the raw image and its bmap, qemu-img conversions (qcow2, vmdk, vhdx, vdi), a tar of the root tree, an OCI image layout and a docker-archive, a live ISO (squashfs root, GRUB for BIOS and UEFI), an installer ISO carrying the raw image; on an A/B disk the slot image (NAME.slot.img) and its sha256; compresses raw and tar if asked.',
  options: Options,
  makes: ['outputs'],
  async run(ctx, o) {
    const raw = o.image === null ? undefined : join(ctx.work, o.image);
    const made = new Map<string, OutputFile[]>();
    // One pass over the image gives the block map and the installer's checksums.
    const digest = raw && (o.formats.includes('raw') || o.installer) ? await digestFile(raw) : undefined;
    // First, while the raw image is whole: the slot image is cut out of it.
    const slot = raw && o.slot !== null ? await slotImage(ctx, raw, o.name, o.slot) : [];
    // The raw image last: the conversions read it before it may be compressed.
    for (const format of [...o.formats.filter((f) => f !== 'raw'), ...o.formats.filter((f) => f === 'raw')]) {
      if (format === 'raw' && raw && o.image && digest) {
        await writeFile(`${raw}.bmap`, bmapXml(digest));
        made.set(format, [{ file: `${o.image}.bmap`, format: 'bmap' }, { file: await compress(ctx, o.image, o.compress), format }]);
      } else if (format === 'installer-iso' && raw && o.image && digest && o.live && o.installer) {
        const file = `${o.name}-installer.iso`;
        const { label, ...settings } = o.installer;
        await writeInstallerIso(ctx, file, { ...o.live, label }, { path: raw, name: o.image, digest }, settings);
        made.set(format, [{ file, format }]);
      } else if ((DISK_FORMATS as readonly string[]).includes(format) && raw) {
        const file = `${o.name}.${format}`;
        await ctx.exec('qemu-img', ['convert', '-f', 'raw', '-O', format, ...(QEMU_OPTIONS[format] ?? []), raw, join(ctx.work, file)]);
        made.set(format, [{ file, format }]);
      } else if (format === 'tar') {
        const file = `${o.name}.tar`;
        await rootTar(ctx, join(ctx.work, file));
        made.set(format, [{ file: await compress(ctx, file, o.compress), format }]);
      } else if (format === 'oci') {
        made.set(format, await containerImages(ctx, o));
      } else if (format === 'iso' && o.live) {
        await writeLiveIso(ctx, `${o.name}.iso`, o.live);
        made.set(format, [{ file: `${o.name}.iso`, format }]);
      }
    }
    // A raw image nobody asked for (only the source of conversions) is not an output.
    if (raw && !o.formats.includes('raw')) await rm(raw);
    // After any an earlier stage made (ostree-commit's repository).
    const outputs = [...(ctx.facts.outputs ?? []), ...o.formats.flatMap((f) => made.get(f) ?? []), ...slot];
    for (const m of outputs) ctx.log(`${m.format}: ${m.file}`);
    return { outputs };
  },
});

async function compress(ctx: StageContext, file: string, method: string): Promise<string> {
  const c = COMPRESSORS[method];
  if (!c) return file;
  // zstd keeps holes out of the stream; xz and gzip read them as zeros, which compress to nothing.
  await ctx.exec(c.command, [...c.args, join(ctx.work, file)]);
  await rm(join(ctx.work, file), { force: true });
  return `${file}.${c.ext}`;
}

/**
 * The root tree as tar: POSIX format with xattrs (file capabilities), numeric owners, sorted
 * names; the contents of /dev, /proc, /sys, /run and /tmp stay out, as container runtimes mount them.
 */
async function rootTar(ctx: StageContext, target: string): Promise<void> {
  const epoch = sourceDateEpoch(ctx);
  await ctx.exec('tar', [
    '--create', '--file', target, '--directory', ctx.root,
    ...(epoch === undefined ? [] : [`--mtime=@${epoch}`, '--clamp-mtime']),
    '--format=posix', '--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime',
    '--sort=name', '--numeric-owner', '--xattrs', '--xattrs-include=*', '--acls', '--one-file-system',
    '--exclude=./dev/*', '--exclude=./proc/*', '--exclude=./sys/*', '--exclude=./run/*', '--exclude=./tmp/*',
    '.',
  ]);
}

async function containerImages(ctx: StageContext, o: z.output<typeof Options>): Promise<OutputFile[]> {
  const layer = join(ctx.scratch, 'layer.tar');
  await rootTar(ctx, layer);
  const oci = `${o.name}.oci`;
  const digests = await writeOciLayout(join(ctx.work, oci), [layer], { name: o.name, arch: o.arch, created: new Date((sourceDateEpoch(ctx) ?? 0) * 1000).toISOString().replace(/\.000Z$/, 'Z') });
  const tree = join(ctx.scratch, 'docker-archive');
  const members = await writeDockerArchiveTree(tree, [layer], o.name, digests);
  const archive = `${o.name}.docker.tar`;
  await ctx.exec('tar', ['--create', '--file', join(ctx.work, archive), '--directory', tree, '--format=posix', '--numeric-owner', '--owner=0', '--group=0', '--mtime=@0', ...members]);
  return [
    { file: oci, format: 'oci' },
    { file: archive, format: 'docker-archive' },
  ];
}

/**
 * The update image of an A/B disk: the slot's file system, cut out of the disk image (sparse), and
 * its sha256 in NAME.slot.img.sha256 (sha256sum's format), which kiln-ab checks after writing it.
 */
async function slotImage(ctx: StageContext, raw: string, name: string, partition: string): Promise<OutputFile[]> {
  const part = ctx.facts.layout?.partitions.find((p) => p.name === partition);
  if (!part) throw new Error(`outputs: the disk has no partition ${partition}`);
  const file = `${name}.slot.img`;
  const MiB = 2 ** 20;
  await ctx.exec('dd', [`if=${raw}`, `of=${join(ctx.work, file)}`, `bs=${MiB}`, `skip=${part.offset / MiB}`, `count=${part.size / MiB}`, 'conv=sparse', 'status=none']);
  await writeFile(join(ctx.work, `${file}.sha256`), `${await sha256File(join(ctx.work, file))}  ${file}\n`);
  ctx.log(`ab-slot: ${file} (${partition}, ${part.size / MiB} MiB)`);
  return [
    { file, format: 'ab-slot' },
    { file: `${file}.sha256`, format: 'sha256' },
  ];
}
