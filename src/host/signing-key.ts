/**
 * An OpenPGP secret key for signing OSTree commits and summaries (ostree signs through GnuPG), in a
 * GnuPG home of its own that lives only as long as it is needed: the user's keyrings are never
 * read or changed. Checked before a build by signing once, so a key that cannot sign unattended
 * (protected by a passphrase, or without a signing capability) is refused before any work.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SigningHome {
  homedir: string;
  /** The primary key's fingerprint: what ostree --gpg-sign takes. */
  fingerprint: string;
  /** The public key as a binary keyring, for /usr/share/ostree/trusted.gpg.d. */
  publicKey: Buffer;
  remove(): void;
}

export type SigningKeyCheck = { home: SigningHome } | { problem: string };

function gpg(homedir: string, args: string[], input?: string) {
  return spawnSync('gpg', ['--homedir', homedir, '--batch', '--no-tty', ...args], { input, maxBuffer: 16 * 1024 * 1024 });
}

function lastLine(stderr: Buffer): string {
  return stderr.toString('utf8').trim().split('\n').filter((l) => l.trim()).at(-1) ?? 'no output';
}

/** Imports `file` into a new GnuPG home and proves it signs without a passphrase; the caller removes the home. */
export function openSigningKey(file: string): SigningKeyCheck {
  // Short, under /tmp: gpg-agent's socket path must fit in 108 bytes.
  const homedir = mkdtempSync(join(tmpdir(), 'kiln-gpg-'));
  const remove = () => {
    spawnSync('gpgconf', ['--homedir', homedir, '--kill', 'gpg-agent'], { stdio: 'ignore' });
    rmSync(homedir, { recursive: true, force: true });
  };
  const fail = (problem: string): SigningKeyCheck => {
    remove();
    return { problem };
  };
  const imported = gpg(homedir, ['--import', file]);
  if (imported.status !== 0) return fail(`is not a key gpg can read (${lastLine(imported.stderr)})`);
  const listed = gpg(homedir, ['--with-colons', '--list-secret-keys']).stdout.toString('utf8');
  const secret = listed.split('\n').filter((l) => l.startsWith('sec:'));
  if (secret.length === 0) return fail('holds no secret key; export one with gpg --export-secret-keys --armor KEYID');
  if (secret.length > 1) return fail(`holds ${secret.length} secret keys; export the one that signs (gpg --export-secret-keys --armor KEYID)`);
  const fingerprint = /^fpr:(?:[^:]*:){8}([0-9A-F]+):/m.exec(listed)?.[1];
  if (fingerprint === undefined) return fail('has a secret key gpg lists without a fingerprint');
  const signed = gpg(homedir, ['--pinentry-mode', 'loopback', '--passphrase', '', '--local-user', fingerprint, '--output', '-', '--sign'], 'kiln\n');
  if (signed.status !== 0) {
    return fail(`cannot sign unattended (${lastLine(signed.stderr)}); kiln signs without asking, so export the key without a passphrase (gpg --export-secret-keys after gpg --change-passphrase to an empty one) and keep the file safe`);
  }
  const publicKey = gpg(homedir, ['--export', fingerprint]).stdout;
  return { home: { homedir, fingerprint, publicKey, remove } };
}
