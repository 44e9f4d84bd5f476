import { createHash, X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { BuildError } from '../errors.js';
import { defineStage, originFolder } from './define.js';

/**
 * Signs the EFI binaries on the ESP with the recipe's Secure Boot key, on the host with sbsign: the
 * key is read from beside the recipe and never copied into the image root, the stage's options or
 * its cache entry. The options name the files and carry fingerprints, so a new key (or cert) makes
 * a new stage id and a new signature.
 */
export const secureBootSign = defineStage({
  name: 'secure-boot-sign',
  version: 1,
  kind: 'tree',
  summary: "Signs systemd-boot and the unified kernel image on the ESP with the recipe's own Secure Boot key and certificate (sbsign on the host; the key never enters the image), then checks each signature with sbverify.",
  options: z.strictObject({
    esp: z.string(),
    /** ESP-relative paths of the EFI binaries to sign. */
    files: z.array(z.string()).min(1),
    /** Paths relative to the recipe's folder, as the recipe gives them. */
    key: z.string(),
    cert: z.string(),
    /** sha256 of the key file: in the id, so another key is another stage; not the key itself. */
    keySha256: z.string().regex(/^[0-9a-f]{64}$/),
    /** The certificate's SHA-256 fingerprint. */
    certFingerprint: z.string(),
  }),
  async run(ctx, o) {
    const folder = originFolder(ctx, 'recipe');
    const key = join(folder, o.key);
    const cert = join(folder, o.cert);
    // The files may have changed since the plan was made: sign only with the pair the plan named.
    const keySha = createHash('sha256').update(await readFile(key)).digest('hex');
    if (keySha !== o.keySha256) throw new BuildError(`${o.key} changed after the build was planned (its sha256 is no longer the planned one); build again`);
    const fingerprint = new X509Certificate(await readFile(cert)).fingerprint256;
    if (fingerprint !== o.certFingerprint) throw new BuildError(`${o.cert} changed after the build was planned; build again`);
    for (const file of o.files) {
      const path = join(ctx.root, o.esp, file);
      if (!existsSync(path)) throw new BuildError(`${o.esp}/${file} is not on the ESP; nothing to sign`);
      await ctx.exec('sbsign', ['--key', key, '--cert', cert, '--output', `${path}.signed`, path]);
      await rename(`${path}.signed`, path);
      await ctx.exec('sbverify', ['--cert', cert, path]);
      ctx.log(`signed ${o.esp}/${file}`);
    }
    ctx.log(`certificate SHA-256 ${o.certFingerprint}`);
  },
});
