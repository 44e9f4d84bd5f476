/**
 * `kiln sbom BUILD_DIR|IMAGE`: the SBOM of an image that is already built, read from the image
 * itself without mounting it: the root file system's dpkg database, os-release and copyright files
 * are copied out with debugfs, and the documents are written beside the image.
 */
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { execa } from 'execa';
import { readBuildRecord } from '../engine/build-record.js';
import { readSfdisk } from '../host/sfdisk.js';
import { sha256File } from '../host/sparse-hash.js';
import { UserError } from '../errors.js';
import { readImage, sbomFiles } from '../sbom/index.js';

/** The image a build folder holds, from its build.json; or the image given. */
function imageOf(target: string): string {
  if (!existsSync(target)) throw new UserError(`${target}: no such build folder or image`);
  if (!statSync(target).isDirectory()) return target;
  const record = readBuildRecord(join(target, 'build.json'));
  const raw = record.outputs.find((o) => o.format === 'raw' && o.file.endsWith('.raw'));
  if (!raw) throw new UserError(`${target}: this build has no uncompressed raw image to read (kiln sbom reads raw images)`);
  return join(target, raw.file);
}

async function debugfs(spec: string, request: string): Promise<string> {
  const { stdout } = await execa('debugfs', ['-R', request, spec], { reject: false });
  return stdout;
}

/** The ext4 partition that holds /var/lib/dpkg/status: the root. */
async function rootSpec(image: string): Promise<string> {
  const table = readSfdisk(image);
  if (!table) throw new UserError(`${image}: no partition table (kiln sbom reads partitioned raw images)`);
  for (const p of table.partitions) {
    const spec = `${image}?offset=${p.start * 512}`;
    if ((await debugfs(spec, 'stat /var/lib/dpkg/status')).includes('Inode:')) return spec;
  }
  throw new UserError(`${image}: no partition holds a dpkg database (/var/lib/dpkg/status on ext4)`);
}

export async function sbomCommand(target: string, kilnVersion: string, formats: readonly string[]): Promise<string> {
  const image = imageOf(target);
  const spec = await rootSpec(image);
  const tree = mkdtempSync(join(tmpdir(), 'kiln-sbom-'));
  try {
    for (const dir of ['var/lib/dpkg', 'usr/share/doc']) {
      await execa('mkdir', ['-p', join(tree, dirname(dir))]);
      await execa('debugfs', ['-R', `rdump /${dir} ${join(tree, dirname(dir))}`, spec]);
    }
    // /etc/os-release is a link to ../usr/lib/os-release: the file is what is needed.
    await execa('mkdir', ['-p', join(tree, 'etc')]);
    writeFileSync(join(tree, 'etc/os-release'), await debugfs(spec, 'cat /usr/lib/os-release'));
    const contents = await readImage(tree);
    const name = basename(image).replace(/\.raw$/, '');
    const files = sbomFiles(formats, { name, kilnVersion, created: `${new Date().toISOString().slice(0, 19)}Z`, ...contents, image: { file: basename(image), sha256: await sha256File(image) } });
    for (const f of files) writeFileSync(join(dirname(image), f.file), f.text);
    return files.map((f) => `${f.format}: ${join(dirname(image), f.file)} (${contents.packages.length} packages)\n`).join('');
  } finally {
    rmSync(tree, { recursive: true, force: true });
  }
}
