/** Signing keys for OSTree, made with gpg here: one that signs, and each kind that cannot. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openSigningKey } from './signing-key.js';

const dir = mkdtempSync(join(tmpdir(), 'kiln-keys-'));
const gnupg = join(dir, 'g');

function gpg(args: string[]): Buffer {
  const r = spawnSync('gpg', ['--homedir', gnupg, '--batch', '--pinentry-mode', 'loopback', ...args]);
  assert.equal(r.status, 0, r.stderr.toString());
  return r.stdout;
}

/** A new ed25519 signing key, with `passphrase` ('' for none); returns its fingerprint. */
function makeKey(uid: string, passphrase: string): string {
  gpg(['--passphrase', passphrase, '--quick-gen-key', uid, 'ed25519', 'sign', 'never']);
  return /^fpr:(?:[^:]*:){8}([0-9A-F]+):/m.exec(gpg(['--with-colons', '--list-keys', uid]).toString())?.[1] ?? '';
}

spawnSync('mkdir', ['-m', '700', gnupg]);
const plain = makeKey('plain <p@example.org>', '');
const guarded = makeKey('guarded <g@example.org>', 'secret');
writeFileSync(join(dir, 'plain.asc'), gpg(['--armor', '--export-secret-keys', plain]));
writeFileSync(join(dir, 'guarded.asc'), gpg(['--passphrase', 'secret', '--armor', '--export-secret-keys', guarded]));
writeFileSync(join(dir, 'public.asc'), gpg(['--armor', '--export', plain]));
writeFileSync(join(dir, 'both.asc'), Buffer.concat([gpg(['--export-secret-keys', plain]), gpg(['--passphrase', 'secret', '--export-secret-keys', guarded])]));
writeFileSync(join(dir, 'garbage.asc'), 'not a key\n');
after(() => {
  spawnSync('gpgconf', ['--homedir', gnupg, '--kill', 'gpg-agent']);
  rmSync(dir, { recursive: true, force: true });
});

void test('a key without a passphrase: its own GnuPG home, fingerprint and public keyring; removed after', () => {
  const opened = openSigningKey(join(dir, 'plain.asc'));
  assert.ok('home' in opened, JSON.stringify(opened));
  assert.equal(opened.home.fingerprint, plain);
  // A binary keyring starts with a public-key packet: tag 6, in the old or the new packet format.
  const first = opened.home.publicKey[0] ?? 0;
  assert.equal(first & 0x40 ? first & 0x3f : (first & 0x3c) >> 2, 6, 'a binary public key');
  opened.home.remove();
  assert.equal(existsSync(opened.home.homedir), false);
});

void test('keys that cannot sign unattended are refused, saying why', () => {
  const problem = (name: string) => {
    const opened = openSigningKey(join(dir, name));
    assert.ok('problem' in opened, `${name} was taken`);
    return opened.problem;
  };
  assert.match(problem('guarded.asc'), /^cannot sign unattended \(.*\); kiln signs without asking, so export the key without a passphrase/);
  assert.equal(problem('public.asc'), 'holds no secret key; export one with gpg --export-secret-keys --armor KEYID');
  assert.match(problem('both.asc'), /^holds 2 secret keys; export the one that signs/);
  assert.match(problem('garbage.asc'), /^is not a key gpg can read \(/);
});
