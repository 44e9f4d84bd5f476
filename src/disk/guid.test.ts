import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GPT_TYPES, decodeGuid, encodeGuid, guidFromSeed, isGuid, resolveGptType } from './guid.js';

const GUID_SHAPE = /^[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$/;

void test('guidFromSeed is pinned to sha256 so images stay reproducible across releases', () => {
  // sha256("kiln") = cdfe9ad58b46226d63eb322dacd35f4f..., with version 4 and variant 10xx applied.
  assert.equal(guidFromSeed('kiln'), 'CDFE9AD5-8B46-426D-A3EB-322DACD35F4F');
  assert.equal(guidFromSeed(''), 'E3B0C442-98FC-4C14-9AFB-F4C8996FB924');
});

void test('guidFromSeed looks like a v4 GUID and differs per seed', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const g = guidFromSeed(`seed-${i}`);
    assert.match(g, GUID_SHAPE);
    assert.equal(guidFromSeed(`seed-${i}`), g);
    seen.add(g);
  }
  assert.equal(seen.size, 200);
});

void test('encodeGuid uses the mixed-endian GPT layout', () => {
  // Bytes as they appear on disk for the ESP type (UEFI spec, 5.3.3).
  assert.equal(encodeGuid(GPT_TYPES.esp ?? '').toString('hex'), '28732ac11ff8d211ba4b00a0c93ec93b');
  assert.equal(encodeGuid('00112233-4455-6677-8899-AABBCCDDEEFF').toString('hex'), '33221100554477668899aabbccddeeff');
});

void test('encodeGuid accepts lowercase and decodeGuid returns uppercase', () => {
  const g = '0fc63daf-8483-4772-8e79-3d69d8477de4';
  assert.equal(decodeGuid(encodeGuid(g)), g.toUpperCase());
});

void test('decodeGuid inverts encodeGuid', () => {
  for (let i = 0; i < 50; i++) {
    const g = guidFromSeed(`rt-${i}`);
    assert.equal(decodeGuid(encodeGuid(g)), g);
  }
  const raw = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex');
  assert.deepEqual(encodeGuid(decodeGuid(raw)), raw);
});

void test('encodeGuid rejects malformed GUIDs', () => {
  for (const bad of [
    '',
    'C12A7328F81F11D2BA4B00A0C93EC93B',
    'C12A7328-F81F-11D2-BA4B-00A0C93EC93',
    'C12A7328-F81F-11D2-BA4B-00A0C93EC93BB',
    '{C12A7328-F81F-11D2-BA4B-00A0C93EC93B}',
    'G12A7328-F81F-11D2-BA4B-00A0C93EC93B',
    ' C12A7328-F81F-11D2-BA4B-00A0C93EC93B',
  ]) {
    assert.throws(() => encodeGuid(bad), /invalid GUID/, bad);
    assert.equal(isGuid(bad), false, bad);
  }
});

void test('decodeGuid rejects buffers that are not 16 bytes', () => {
  assert.throws(() => decodeGuid(Buffer.alloc(15)), /16 bytes/);
  assert.throws(() => decodeGuid(Buffer.alloc(17)), /16 bytes/);
});

void test('GPT_TYPES holds the x86-64 type GUIDs', () => {
  assert.deepEqual(
    { ...GPT_TYPES },
    {
      esp: 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B',
      root: '4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709',
      linux: '0FC63DAF-8483-4772-8E79-3D69D8477DE4',
      data: '0FC63DAF-8483-4772-8E79-3D69D8477DE4',
      swap: '0657FD6D-A4AB-43C4-84E5-0933C84B4F4F',
      'bios-boot': '21686148-6449-6E6F-744E-656564454649',
      xbootldr: 'BC13C2FF-59E6-4262-A352-B275FD6F7172',
      home: '933AC7E1-2EB4-4F13-B844-0E14E2AEF915',
      srv: '3B8F8425-20E0-4F3B-907F-1A25A76F98E8',
    },
  );
  assert.ok(Object.isFrozen(GPT_TYPES));
});

void test('resolveGptType', () => {
  const cases: [string, string | undefined][] = [
    ['esp', 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B'],
    ['ESP', 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B'],
    ['bios-boot', '21686148-6449-6E6F-744E-656564454649'],
    ['swap', '0657FD6D-A4AB-43C4-84E5-0933C84B4F4F'],
    ['c12a7328-f81f-11d2-ba4b-00a0c93ec93b', 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B'],
    ['12345678-9abc-def0-1234-56789abcdef0', '12345678-9ABC-DEF0-1234-56789ABCDEF0'],
    ['efi', undefined],
    ['constructor', undefined],
    ['toString', undefined],
    ['', undefined],
    ['12345678-9abc-def0-1234-56789abcdef', undefined],
    // An unused entry, not a type: the GPT writer would refuse it only at build time.
    ['00000000-0000-0000-0000-000000000000', undefined],
  ];
  for (const [input, want] of cases) assert.equal(resolveGptType(input), want, input);
});
