import { existsSync } from 'node:fs';
import { mkdir, rm, symlink, writeFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { BuildError } from '../errors.js';
import { defineStage } from './define.js';
import { BUILTIN_LOCALES } from './locales.js';

export const system = defineStage({
  name: 'system',
  version: 1,
  kind: 'tree',
  summary:
    'Sets the hostname (/etc/hostname, /etc/hosts), the time zone (/etc/localtime), the default locale, the keyboard of the console and X (/etc/default/keyboard, read by console-setup, X and localectl) and the NTP servers of systemd-timesyncd (a drop-in; kiln installs systemd-timesyncd when the recipe names servers).',
  options: z.strictObject({
    hostname: z.string(),
    timezone: z.string(),
    locale: z.string(),
    keyboard: z.strictObject({ layout: z.string(), variant: z.string().optional(), model: z.string().optional(), options: z.string().optional() }).optional(),
    ntp: z.array(z.string()).optional(),
  }),
  async run(ctx, o) {
    const etc = join(ctx.root, 'etc');
    await writeFile(join(etc, 'hostname'), `${o.hostname}\n`);
    const short = o.hostname.split('.')[0] ?? o.hostname;
    const alias = short === o.hostname ? o.hostname : `${o.hostname} ${short}`;
    await writeFile(
      join(etc, 'hosts'),
      `127.0.0.1\tlocalhost\n127.0.1.1\t${alias}\n\n::1\tlocalhost ip6-localhost ip6-loopback\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n`,
    );

    if (!existsSync(join(ctx.root, 'usr/share/zoneinfo', o.timezone))) {
      throw new BuildError(`time zone ${o.timezone} is not in the image (is it spelled right? the tzdata package provides them)`);
    }
    await rm(join(etc, 'localtime'), { force: true });
    await symlink(`/usr/share/zoneinfo/${o.timezone}`, join(etc, 'localtime'));
    await writeFile(join(etc, 'timezone'), `${o.timezone}\n`);

    await mkdir(join(etc, 'default'), { recursive: true });
    await writeFile(join(etc, 'default/locale'), `LANG=${o.locale}\n`);
    if (!BUILTIN_LOCALES.includes(o.locale)) {
      const gen = join(etc, 'locale.gen');
      const charset = o.locale.includes('.') ? o.locale.split('.')[1]?.replace(/@.*/, '') : 'ISO-8859-1';
      const current = existsSync(gen) ? await readFile(gen, 'utf8') : '';
      await writeFile(gen, `${current}${o.locale} ${charset === 'utf8' ? 'UTF-8' : charset}\n`);
      await ctx.chroot('locale-gen', []);
    }
    if (o.keyboard) await writeFile(join(etc, 'default/keyboard'), keyboardFile(o.keyboard));
    if (o.ntp?.length) {
      // A drop-in, so the package's own timesyncd.conf stays as shipped (and updates cleanly).
      await mkdir(join(etc, 'systemd/timesyncd.conf.d'), { recursive: true });
      await writeFile(join(etc, 'systemd/timesyncd.conf.d/50-kiln.conf'), `# Written by kiln from the recipe's ntp key.\n[Time]\nNTP=${o.ntp.join(' ')}\n`);
      ctx.log(`ntp: systemd-timesyncd uses ${o.ntp.join(', ')} (kiln installed systemd-timesyncd for the ntp key)`);
    }
  },
});

/** Debian's keyboard file: sourced by shell scripts (console-setup), so values are quoted (validation kept quotes out). */
export function keyboardFile(k: { layout: string; variant?: string | undefined; model?: string | undefined; options?: string | undefined }): string {
  return [
    "# Written by kiln from the recipe's keyboard key; see keyboard(5).",
    `XKBMODEL="${k.model ?? 'pc105'}"`,
    `XKBLAYOUT="${k.layout}"`,
    `XKBVARIANT="${k.variant ?? ''}"`,
    `XKBOPTIONS="${k.options ?? ''}"`,
    'BACKSPACE="guess"',
    '',
  ].join('\n');
}
