import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { checkPublicKey } from './openpgp-key.js';

const ARMORED = readFileSync(fileURLToPath(new URL('../../../src/recipe/testdata/repo-key.asc', import.meta.url)), 'utf8');
/** What gpg --with-colons --fingerprint printed for the test key. */
const FINGERPRINT = 'F0B4BE93135520224F44391D57C99B0B4877ACAD';
const body = ARMORED.split('\n').filter((l) => l && !l.startsWith('-----') && !l.startsWith('='));
const BINARY = Buffer.from(body.join(''), 'base64');

const keyOf = (data: Buffer) => {
  const check = checkPublicKey(data);
  assert.ok('key' in check, JSON.stringify(check));
  return check.key;
};
const problemOf = (data: Buffer) => {
  const check = checkPublicKey(data);
  return 'problem' in check ? check.problem : 'no problem';
};

void test('an armored key, its binary form and one with armor headers give one canonical armor and gpg\'s fingerprint', () => {
  const armored = keyOf(Buffer.from(ARMORED));
  assert.equal(armored.fingerprint, FINGERPRINT);
  assert.deepEqual(keyOf(BINARY), armored);
  const withHeaders = ARMORED.replace('-----\n\n', '-----\nComment: a test key\nVersion: 1\n\n');
  assert.deepEqual(keyOf(Buffer.from(withHeaders)), armored);
  assert.deepEqual(keyOf(Buffer.from(armored.armored)), armored);
  assert.equal(armored.armored, ARMORED.trimEnd());
});

void test('what is not a usable public key is named', () => {
  assert.equal(problemOf(Buffer.from('hello')), 'is not OpenPGP data (byte 0 is not a packet header)');
  assert.equal(problemOf(BINARY.subarray(0, 40)), 'is cut short (a packet runs past its end)');
  assert.equal(problemOf(Buffer.from([0xc5, 0x01, 0x04])), 'is a private key; give the public key (gpg --export --armor KEYID)');
  assert.equal(problemOf(Buffer.from('-----BEGIN PGP PRIVATE KEY BLOCK-----\n')), 'is a private key; give the public key (gpg --export --armor KEYID)');
  assert.equal(problemOf(Buffer.from([0xcd, 0x01, 0x41])), 'starts with OpenPGP packet type 13, not a public key');
  // The primary key alone, without its user id and signature.
  const first = 2 + (BINARY[1] ?? 0);
  assert.equal(problemOf(BINARY.subarray(0, first)), 'has no user id; export the whole key (gpg --export --armor KEYID)');
  assert.equal(problemOf(Buffer.from('-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n!!!\n-----END PGP PUBLIC KEY BLOCK-----\n')), 'has an armored block that is not base64');
  assert.equal(problemOf(Buffer.from('-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nAAAA\n')), 'is not an armored public key (no "-----BEGIN PGP PUBLIC KEY BLOCK-----" ... "-----END PGP PUBLIC KEY BLOCK-----" block)');
});
