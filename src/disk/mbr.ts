/**
 * The MBR (DOS) partition table writer: up to four primary partitions in sector 0, with the boot
 * flag, a type byte, LBA start and length (and the matching CHS fields, for old firmware), and a
 * 32-bit disk id. 32-bit sector numbers limit it to 2 TiB, which it refuses clearly rather than
 * wrapping. The boot code area (bytes 0-439) is left to the bootloader.
 */
import { open } from 'node:fs/promises';

export const SECTOR = 512;
/** The last sector an MBR entry can address ends at 2^32 sectors: 2 TiB. */
export const MBR_MAX_BYTES = 2 ** 32 * SECTOR;

export interface MbrPartition {
  type: number;
  bootable: boolean;
  firstLba: number;
  lastLba: number;
}

export interface MbrDisk {
  /** The disk identifier (signature) at offset 440. */
  diskId: number;
  sizeBytes: number;
  partitions: MbrPartition[];
}

/** Partition type names for MBR; a raw byte is written as "0x83" or "83". */
export const MBR_TYPES: Readonly<Record<string, number>> = Object.freeze({
  esp: 0xef,
  /** FAT32 with LBA: what the Raspberry Pi's boot ROM and firmware look for. */
  fat32: 0x0c,
  root: 0x83,
  linux: 0x83,
  data: 0x83,
  home: 0x83,
  srv: 0x83,
  swap: 0x82,
  xbootldr: 0xea,
});

/**
 * Bytes that do not type a primary partition's contents: 0x00 marks an unused entry, Linux reads
 * 0x05, 0x0f and 0x85 as an extended partition (and exposes only 1 KiB of it), and it ignores every
 * partition of a disk with an 0xee (GPT protective) entry. Written faithfully, each still gives an
 * image whose file system the kernel cannot find.
 */
const NOT_PRIMARY = new Set([0x00, 0x05, 0x0f, 0x85, 0xee]);

export function resolveMbrType(nameOrByte: string): number | undefined {
  const name = nameOrByte.toLowerCase();
  if (Object.hasOwn(MBR_TYPES, name)) return MBR_TYPES[name];
  const hex = /^(0x)?([0-9a-f]{1,2})$/i.exec(nameOrByte);
  if (!hex?.[2]) return undefined;
  const byte = Number.parseInt(hex[2], 16);
  return NOT_PRIMARY.has(byte) ? undefined : byte;
}

/** CHS for an LBA in the usual 255-head, 63-sector geometry; past cylinder 1023 the maximum. */
function chs(lba: number): Buffer {
  const cylinder = Math.floor(lba / (255 * 63));
  if (cylinder > 1023) return Buffer.from([0xfe, 0xff, 0xff]);
  const head = Math.floor(lba / 63) % 255;
  const sector = (lba % 63) + 1;
  return Buffer.from([head, ((cylinder >> 2) & 0xc0) | sector, cylinder & 0xff]);
}

export function buildMbr(disk: MbrDisk): Buffer {
  if (disk.partitions.length > 4) throw new Error(`MBR: ${disk.partitions.length} partitions, but an MBR holds at most 4 primary partitions`);
  if (disk.sizeBytes > MBR_MAX_BYTES) throw new Error(`MBR: the disk is ${disk.sizeBytes} bytes, but an MBR addresses at most 2 TiB`);
  const sector = Buffer.alloc(SECTOR);
  sector.writeUInt32LE(disk.diskId >>> 0, 440);
  disk.partitions.forEach((p, i) => {
    const at = 446 + i * 16;
    const sectors = p.lastLba - p.firstLba + 1;
    if (p.firstLba < 1 || sectors < 1 || (p.lastLba + 1) * SECTOR > disk.sizeBytes) throw new Error(`MBR: partition ${i + 1} (LBA ${p.firstLba}..${p.lastLba}) does not fit the disk`);
    // A Buffer stores 256 or NaN as 0, the unused-entry type, and the partition would vanish.
    if (!Number.isInteger(p.type) || p.type < 1 || p.type > 0xff) throw new Error(`MBR: partition ${i + 1} has type ${p.type}, which is not a type byte (0x01-0xff)`);
    sector[at] = p.bootable ? 0x80 : 0;
    chs(p.firstLba).copy(sector, at + 1);
    sector[at + 4] = p.type;
    chs(p.lastLba).copy(sector, at + 5);
    sector.writeUInt32LE(p.firstLba, at + 8);
    sector.writeUInt32LE(sectors, at + 12);
  });
  sector[510] = 0x55;
  sector[511] = 0xaa;
  return sector;
}

/** Writes the table into sector 0 of an existing image, keeping the boot code already there. */
export async function writeMbr(file: string, disk: MbrDisk): Promise<void> {
  const table = buildMbr(disk);
  const fh = await open(file, 'r+');
  try {
    await fh.write(table, 440, SECTOR - 440, 440);
  } finally {
    await fh.close();
  }
}
