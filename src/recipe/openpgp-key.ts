/**
 * An apt repository's signing key (`apt.sources[].key`), checked before the build: armored or
 * binary OpenPGP data whose packets make a public key with a user id and signatures, as gpgv and
 * sqv need. Parsed here rather than with gpg, so the check is pure (the service validates recipes
 * without running programs) and its message names what is wrong. apt verifies the signatures
 * themselves when it reads the repository.
 */
import { createHash } from 'node:crypto';

export interface PublicKey {
  /** The key re-armored without comments or headers: what Signed-By holds, byte-identical for the same key. */
  armored: string;
  /** The primary key's fingerprint (hex, upper case), for logs. */
  fingerprint: string;
}

export type KeyCheck = { key: PublicKey } | { problem: string };

const BEGIN = '-----BEGIN PGP PUBLIC KEY BLOCK-----';
const END = '-----END PGP PUBLIC KEY BLOCK-----';
const TAG = { signature: 2, secretKey: 5, publicKey: 6, userId: 13, publicSubkey: 14 } as const;
/** RSA, Elgamal, DSA, ECDH, ECDSA, EdDSA (legacy), X25519, X448, Ed25519, Ed448 (RFC 9580). */
const ALGORITHMS = new Set([1, 2, 3, 16, 17, 18, 19, 22, 25, 26, 27, 28]);

export function checkPublicKey(data: Buffer): KeyCheck {
  const text = data.toString('latin1');
  if (/-----BEGIN PGP PRIVATE KEY BLOCK-----/.test(text)) return { problem: 'is a private key; give the public key (gpg --export --armor KEYID)' };
  let binary: Buffer;
  if (text.includes('-----BEGIN PGP')) {
    const dearmored = dearmor(text);
    if ('problem' in dearmored) return dearmored;
    binary = dearmored.binary;
  } else binary = data;
  const packets = readPackets(binary);
  if ('problem' in packets) return packets;
  const [first] = packets.list;
  if (!first) return { problem: 'holds no OpenPGP packets' };
  if (first.tag === TAG.secretKey) return { problem: 'is a private key; give the public key (gpg --export --armor KEYID)' };
  if (first.tag !== TAG.publicKey) return { problem: `starts with OpenPGP packet type ${first.tag}, not a public key` };
  const version = first.body[0];
  if (version !== 4 && version !== 5 && version !== 6) return { problem: `is a version ${version ?? '?'} key; apt reads version 4 and 6 keys` };
  const algorithm = first.body[5];
  if (algorithm === undefined || !ALGORITHMS.has(algorithm)) return { problem: `uses unknown public-key algorithm ${algorithm ?? '?'}` };
  if (!packets.list.some((p) => p.tag === TAG.userId)) return { problem: 'has no user id; export the whole key (gpg --export --armor KEYID)' };
  if (!packets.list.some((p) => p.tag === TAG.signature)) return { problem: 'has no signatures, so apt cannot use it; export the whole key (gpg --export --armor KEYID)' };
  const allowed: readonly number[] = Object.values(TAG);
  const odd = packets.list.find((p) => !allowed.includes(p.tag) && p.tag !== 17 && p.tag !== 12);
  if (odd) return { problem: `holds an OpenPGP packet of type ${odd.tag}, which no public key has` };
  return { key: { armored: armor(binary), fingerprint: fingerprint(version, first.body) } };
}

/** The base64 body of the first public key block, its CRC-24 checked when given. */
function dearmor(text: string): { binary: Buffer } | { problem: string } {
  const start = text.indexOf(BEGIN);
  const end = text.indexOf(END, start);
  if (start < 0 || end < 0) return { problem: `is not an armored public key (no "${BEGIN}" ... "${END}" block)` };
  const lines = text.slice(start + BEGIN.length, end).split(/\r?\n/).map((l) => l.trim()).slice(1);
  // Armor headers (Version:, Comment:) come before the blank line that starts the body.
  let headers = 0;
  while (/^[A-Za-z-]+: /.test(lines[headers] ?? '')) headers++;
  const body = lines.slice(headers).filter(Boolean);
  const crcLine = body.find((l) => l.startsWith('='));
  const base64 = body.filter((l) => !l.startsWith('=')).join('');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64) || base64.length === 0) return { problem: 'has an armored block that is not base64' };
  const binary = Buffer.from(base64, 'base64');
  if (crcLine !== undefined && Buffer.from(crcLine.slice(1), 'base64').readUIntBE(0, 3) !== crc24(binary)) {
    return { problem: 'has a damaged armored block (its CRC-24 checksum does not match)' };
  }
  return { binary };
}

interface Packet {
  tag: number;
  body: Buffer;
}

function readPackets(data: Buffer): { list: Packet[] } | { problem: string } {
  const list: Packet[] = [];
  let at = 0;
  while (at < data.length) {
    const header = data[at] ?? 0;
    if (!(header & 0x80)) return { problem: `is not OpenPGP data (byte ${at} is not a packet header)` };
    let tag: number;
    let length: number;
    let headerLength: number;
    if (header & 0x40) {
      tag = header & 0x3f;
      const first = data[at + 1] ?? 0;
      if (first < 192) [length, headerLength] = [first, 2];
      else if (first < 224) [length, headerLength] = [((first - 192) << 8) + (data[at + 2] ?? 0) + 192, 3];
      else if (first === 255 && at + 6 <= data.length) [length, headerLength] = [data.readUInt32BE(at + 2), 6];
      else return { problem: 'uses partial-length packets, which no key has' };
    } else {
      tag = (header >> 2) & 0x0f;
      const size = [1, 2, 4][header & 3];
      if (size === undefined || at + 1 + size > data.length) return { problem: 'has a packet of indeterminate length' };
      [length, headerLength] = [data.readUIntBE(at + 1, size), 1 + size];
    }
    if (at + headerLength + length > data.length) return { problem: 'is cut short (a packet runs past its end)' };
    list.push({ tag, body: data.subarray(at + headerLength, at + headerLength + length) });
    at += headerLength + length;
  }
  return { list };
}

function fingerprint(version: number, body: Buffer): string {
  const prefix = Buffer.alloc(version === 4 ? 3 : 5);
  prefix[0] = version === 4 ? 0x99 : 0x9a;
  if (version === 4) prefix.writeUInt16BE(body.length, 1);
  else prefix.writeUInt32BE(body.length, 1);
  return createHash(version === 4 ? 'sha1' : 'sha256').update(prefix).update(body).digest('hex').toUpperCase();
}

function armor(binary: Buffer): string {
  const crc = Buffer.alloc(3);
  crc.writeUIntBE(crc24(binary), 0, 3);
  const lines = binary.toString('base64').match(/.{1,64}/g) ?? [];
  return [BEGIN, '', ...lines, `=${crc.toString('base64')}`, END].join('\n');
}

/** RFC 4880 section 6.1. */
function crc24(data: Buffer): number {
  let crc = 0xb704ce;
  for (const byte of data) {
    crc ^= byte << 16;
    for (let i = 0; i < 8; i++) {
      crc <<= 1;
      if (crc & 0x1000000) crc ^= 0x1864cfb;
    }
  }
  return crc & 0xffffff;
}
