/**
 * The Secure Boot key pair a recipe names (`secure_boot: { key, cert }`): read, parsed and matched
 * with node:crypto, so a wrong pair is refused before the build, not by sbsign after the kernel is
 * built. The key's content goes nowhere but to sbsign: what leaves here is fingerprints.
 */
import { createHash, createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';

export interface SigningKeys {
  /** sha256 of the key file: changes the signing stage's id when the key does, without revealing it. */
  keySha256: string;
  /** The certificate's SHA-256 fingerprint (AA:BB:...), the one thing about the pair a record may show. */
  certFingerprint: string;
  /** The certificate's subject, for messages. */
  subject: string;
}

export type KeyCheck = { keys: SigningKeys } | { problem: { on: 'key' | 'cert'; message: string } };

/** `keyFile` and `certFile` are resolved paths; `keyName`/`certName` as the recipe wrote them. */
export function checkSigningKeys(keyFile: string, certFile: string, keyName: string): KeyCheck {
  let keyText: Buffer;
  let certText: Buffer;
  try {
    keyText = readFileSync(keyFile);
  } catch (err) {
    return { problem: { on: 'key', message: `cannot be read (${reason(err)})` } };
  }
  try {
    certText = readFileSync(certFile);
  } catch (err) {
    return { problem: { on: 'cert', message: `cannot be read (${reason(err)})` } };
  }
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certText);
  } catch {
    return { problem: { on: 'cert', message: 'is not an X.509 certificate in PEM form (make a pair with: openssl req -new -x509 -newkey rsa:2048 -nodes -subj "/CN=my db key/" -days 3650 -keyout db.key -out db.crt)' } };
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(keyText);
  } catch (err) {
    if (/passphrase/i.test(reason(err)) || /ENCRYPTED/.test(keyText.toString('latin1'))) {
      return { problem: { on: 'key', message: `is encrypted; sbsign signs unattended and needs an unencrypted key: openssl pkey -in ${keyName} -out ${keyName}.plain (keep it out of the image's files)` } };
    }
    return { problem: { on: 'key', message: 'is not a private key in PEM form' } };
  }
  if (key.asymmetricKeyType !== 'rsa') return { problem: { on: 'key', message: `is a ${key.asymmetricKeyType ?? 'non-RSA'} key; UEFI firmware verifies RSA signatures only (make an RSA 2048 key)` } };
  if (!cert.checkPrivateKey(key)) {
    return { problem: { on: 'cert', message: `does not belong to the key ${keyName} (the certificate's public key is another one: ${cert.subject.replace(/\n/g, ', ')})` } };
  }
  return {
    keys: {
      keySha256: createHash('sha256').update(keyText).digest('hex'),
      certFingerprint: cert.fingerprint256,
      subject: cert.subject.replace(/\n/g, ', '),
    },
  };
}

function reason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'EACCES') return 'permission denied';
  if (e.code === 'ENOENT') return 'no such file';
  return err instanceof Error ? err.message : String(err);
}
