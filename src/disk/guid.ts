import { createHash } from 'node:crypto';

const GUID_RE = /^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/i;

/** True when `s` is a GUID in the canonical 8-4-4-4-12 hex form (any case). */
export function isGuid(s: string): boolean {
  return GUID_RE.test(s);
}

function assertGuid(guid: string): void {
  if (!GUID_RE.test(guid)) {
    throw new Error(`invalid GUID "${guid}": expected XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX (hex digits)`);
  }
}

function formatGuid(bytes: Buffer): string {
  const hex = bytes.toString('hex').toUpperCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/**
 * Deterministic GUID so that rebuilding the same recipe yields byte-identical images. Version and
 * variant bits are set like a v4 GUID because some tools reject GUIDs that look malformed.
 */
export function guidFromSeed(seed: string): string {
  const bytes = createHash('sha256').update(seed, 'utf8').digest().subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x40;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  return formatGuid(bytes);
}

/**
 * GPT stores GUIDs in Microsoft's mixed-endian layout: the first three fields little-endian, the
 * last two as plain bytes. Getting this wrong produces GUIDs that no tool recognises.
 */
export function encodeGuid(guid: string): Buffer {
  assertGuid(guid);
  const raw = Buffer.from(guid.replace(/-/g, ''), 'hex');
  const out = Buffer.alloc(16);
  out.writeUInt32LE(raw.readUInt32BE(0), 0);
  out.writeUInt16LE(raw.readUInt16BE(4), 4);
  out.writeUInt16LE(raw.readUInt16BE(6), 6);
  raw.copy(out, 8, 8, 16);
  return out;
}

export function decodeGuid(buf: Buffer): string {
  if (buf.length !== 16) {
    throw new Error(`invalid GUID encoding: expected 16 bytes, got ${buf.length}`);
  }
  const raw = Buffer.alloc(16);
  raw.writeUInt32BE(buf.readUInt32LE(0), 0);
  raw.writeUInt16BE(buf.readUInt16LE(4), 4);
  raw.writeUInt16BE(buf.readUInt16LE(6), 6);
  buf.copy(raw, 8, 8, 16);
  return formatGuid(raw);
}

/** Partition type GUIDs for x86-64 (UEFI spec and the Discoverable Partitions Specification). */
export const GPT_TYPES: Readonly<Record<string, string>> = Object.freeze({
  esp: 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B',
  root: '4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709',
  linux: '0FC63DAF-8483-4772-8E79-3D69D8477DE4',
  data: '0FC63DAF-8483-4772-8E79-3D69D8477DE4',
  swap: '0657FD6D-A4AB-43C4-84E5-0933C84B4F4F',
  'bios-boot': '21686148-6449-6E6F-744E-656564454649',
  xbootldr: 'BC13C2FF-59E6-4262-A352-B275FD6F7172',
  home: '933AC7E1-2EB4-4F13-B844-0E14E2AEF915',
  srv: '3B8F8425-20E0-4F3B-907F-1A25A76F98E8',
});

const UNUSED_ENTRY = '00000000-0000-0000-0000-000000000000';

/**
 * A known type name or a raw GUID (both any case) to an uppercase type GUID; undefined otherwise.
 * The all-zero GUID marks an unused entry (the GPT writer refuses it), so it is no type either.
 */
export function resolveGptType(nameOrGuid: string): string | undefined {
  const name = nameOrGuid.toLowerCase();
  // hasOwn keeps names like "constructor" from resolving through the prototype chain.
  if (Object.hasOwn(GPT_TYPES, name)) return GPT_TYPES[name];
  if (GUID_RE.test(nameOrGuid) && nameOrGuid !== UNUSED_ENTRY) return nameOrGuid.toUpperCase();
  return undefined;
}
