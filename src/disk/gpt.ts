import { open, type FileHandle } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { encodeGuid } from './guid.js';

export interface GptPartition {
  name: string;
  typeGuid: string;
  partGuid: string;
  firstLba: number;
  lastLba: number;
  attributes?: bigint;
}

/** A whole disk in 512-byte sectors. Partition numbers follow the order of `partitions`. */
export interface GptDisk {
  diskGuid: string;
  sizeBytes: number;
  partitions: GptPartition[];
}

/**
 * `head` covers LBA 0..33 (protective MBR, primary header, entry array); `tail` holds the backup
 * entry array and backup header and belongs at byte `tailOffset`, ending exactly at the disk's end.
 */
export interface GptImage {
  head: Buffer;
  tail: Buffer;
  tailOffset: number;
}

export const SECTOR = 512;
const ENTRY_COUNT = 128;
const ENTRY_SIZE = 128;
const ENTRY_SECTORS = (ENTRY_COUNT * ENTRY_SIZE) / SECTOR; // 32
const HEADER_SIZE = 92;
const MAX_NAME_CHARS = 36;
const FIRST_USABLE_LBA = 2 + ENTRY_SECTORS; // 34
const ZERO_GUID = '00000000-0000-0000-0000-000000000000';
const MAX_U64 = (1n << 64n) - 1n;

function buildEntries(partitions: GptPartition[]): Buffer {
  const entries = Buffer.alloc(ENTRY_COUNT * ENTRY_SIZE);
  partitions.forEach((p, i) => {
    const at = i * ENTRY_SIZE;
    encodeGuid(p.typeGuid).copy(entries, at);
    encodeGuid(p.partGuid).copy(entries, at + 16);
    entries.writeBigUInt64LE(BigInt(p.firstLba), at + 32);
    entries.writeBigUInt64LE(BigInt(p.lastLba), at + 40);
    entries.writeBigUInt64LE(p.attributes ?? 0n, at + 48);
    entries.write(p.name, at + 56, MAX_NAME_CHARS * 2, 'utf16le');
  });
  return entries;
}

function buildHeader(
  myLba: number,
  alternateLba: number,
  lastUsableLba: number,
  entriesLba: number,
  diskGuid: Buffer,
  entriesCrc: number,
): Buffer {
  const h = Buffer.alloc(SECTOR);
  h.write('EFI PART', 0, 'latin1');
  h.writeUInt32LE(0x00010000, 8);
  h.writeUInt32LE(HEADER_SIZE, 12);
  h.writeBigUInt64LE(BigInt(myLba), 24);
  h.writeBigUInt64LE(BigInt(alternateLba), 32);
  h.writeBigUInt64LE(BigInt(FIRST_USABLE_LBA), 40);
  h.writeBigUInt64LE(BigInt(lastUsableLba), 48);
  diskGuid.copy(h, 56);
  h.writeBigUInt64LE(BigInt(entriesLba), 72);
  h.writeUInt32LE(ENTRY_COUNT, 80);
  h.writeUInt32LE(ENTRY_SIZE, 84);
  h.writeUInt32LE(entriesCrc, 88);
  // The CRC covers the header with its own CRC field zeroed, which it still is at this point.
  h.writeUInt32LE(crc32(h.subarray(0, HEADER_SIZE)), 16);
  return h;
}

/** The protective MBR makes MBR-only tools see one unknown partition instead of free space. */
function buildProtectiveMbr(totalSectors: number): Buffer {
  const mbr = Buffer.alloc(SECTOR);
  const e = 446;
  mbr[e] = 0x00; // not bootable
  mbr[e + 1] = 0x00; // CHS of LBA 1: head 0, sector 2, cylinder 0
  mbr[e + 2] = 0x02;
  mbr[e + 3] = 0x00;
  mbr[e + 4] = 0xee;
  mbr[e + 5] = 0xff; // CHS end saturated: the disk is addressed by LBA only
  mbr[e + 6] = 0xff;
  mbr[e + 7] = 0xff;
  mbr.writeUInt32LE(1, e + 8);
  mbr.writeUInt32LE(Math.min(totalSectors - 1, 0xffffffff), e + 12);
  mbr[510] = 0x55;
  mbr[511] = 0xaa;
  return mbr;
}

function validate(disk: GptDisk): { lastLba: number; lastUsableLba: number } {
  const { sizeBytes, partitions } = disk;
  if (!Number.isSafeInteger(sizeBytes) || sizeBytes <= 0 || sizeBytes % SECTOR !== 0) {
    throw new Error(`GPT: disk size ${sizeBytes} bytes is not a positive multiple of ${SECTOR}`);
  }
  const lastLba = sizeBytes / SECTOR - 1;
  const lastUsableLba = lastLba - 1 - ENTRY_SECTORS;
  if (lastUsableLba < FIRST_USABLE_LBA) {
    throw new Error(
      `GPT: disk of ${sizeBytes} bytes is too small: it needs at least ${(FIRST_USABLE_LBA + 1 + ENTRY_SECTORS + 1) * SECTOR} bytes for the partition tables`,
    );
  }
  if (partitions.length > ENTRY_COUNT) {
    throw new Error(`GPT: ${partitions.length} partitions given, at most ${ENTRY_COUNT} fit in the table`);
  }
  encodeGuid(disk.diskGuid);
  partitions.forEach((p, i) => {
    const what = `GPT: partition ${i + 1} ("${p.name}")`;
    if (p.name.length > MAX_NAME_CHARS) {
      throw new Error(`${what}: name is ${p.name.length} characters long, the maximum is ${MAX_NAME_CHARS}`);
    }
    encodeGuid(p.typeGuid);
    encodeGuid(p.partGuid);
    // An all-zero type GUID marks an unused slot, so the partition would silently vanish.
    if (p.typeGuid === ZERO_GUID) throw new Error(`${what}: type GUID must not be all zeros`);
    if (!Number.isSafeInteger(p.firstLba) || !Number.isSafeInteger(p.lastLba)) {
      throw new Error(`${what}: first and last LBA must be integers (got ${p.firstLba}..${p.lastLba})`);
    }
    if (p.firstLba > p.lastLba) {
      throw new Error(`${what}: first LBA ${p.firstLba} is after last LBA ${p.lastLba}`);
    }
    if (p.firstLba < FIRST_USABLE_LBA || p.lastLba > lastUsableLba) {
      throw new Error(
        `${what}: LBA ${p.firstLba}..${p.lastLba} is outside the usable range ${FIRST_USABLE_LBA}..${lastUsableLba}`,
      );
    }
    if (p.attributes !== undefined && (p.attributes < 0n || p.attributes > MAX_U64)) {
      throw new Error(`${what}: attributes ${p.attributes} do not fit in 64 bits`);
    }
  });
  const byStart = partitions.map((p, i) => ({ p, i })).sort((a, b) => a.p.firstLba - b.p.firstLba);
  for (let k = 1; k < byStart.length; k++) {
    const prev = byStart[k - 1];
    const cur = byStart[k];
    if (prev && cur && cur.p.firstLba <= prev.p.lastLba) {
      throw new Error(
        `GPT: partition ${cur.i + 1} ("${cur.p.name}", LBA ${cur.p.firstLba}..${cur.p.lastLba}) overlaps partition ${prev.i + 1} ("${prev.p.name}", LBA ${prev.p.firstLba}..${prev.p.lastLba})`,
      );
    }
  }
  return { lastLba, lastUsableLba };
}

export function buildGpt(disk: GptDisk): GptImage {
  const { lastLba, lastUsableLba } = validate(disk);
  const diskGuid = encodeGuid(disk.diskGuid);
  const entries = buildEntries(disk.partitions);
  const entriesCrc = crc32(entries);
  const backupEntriesLba = lastLba - ENTRY_SECTORS;

  const primary = buildHeader(1, lastLba, lastUsableLba, 2, diskGuid, entriesCrc);
  const backup = buildHeader(lastLba, 1, lastUsableLba, backupEntriesLba, diskGuid, entriesCrc);

  return {
    head: Buffer.concat([buildProtectiveMbr(disk.sizeBytes / SECTOR), primary, entries]),
    tail: Buffer.concat([entries, backup]),
    tailOffset: backupEntriesLba * SECTOR,
  };
}

/**
 * Writes the tables into an existing, already-sized image without truncating it, so the partition
 * contents written before or after stay intact.
 */
export async function writeGpt(file: string, disk: GptDisk): Promise<void> {
  const image = buildGpt(disk);
  const fh = await open(file, 'r+');
  try {
    const st = await fh.stat();
    // A regular file of the wrong size would put the backup header somewhere other than the last
    // sector; block devices report size 0 here, so only files are checked.
    if (st.isFile() && st.size !== disk.sizeBytes) {
      throw new Error(`GPT: ${file} is ${st.size} bytes but the disk layout is ${disk.sizeBytes} bytes`);
    }
    await writeFully(fh, image.head, 0);
    await writeFully(fh, image.tail, image.tailOffset);
  } finally {
    await fh.close();
  }
}

async function writeFully(fh: FileHandle, buf: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesWritten } = await fh.write(buf, done, buf.length - done, position + done);
    done += bytesWritten;
  }
}
