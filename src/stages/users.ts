import { chown, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { BuildError } from '../errors.js';
import { defineStage } from './define.js';
import { readGroups, readPasswd } from './image-accounts.js';

const User = z.strictObject({
  name: z.string(),
  passwordHash: z.string().nullable(),
  groups: z.array(z.string()),
  shell: z.string(),
  sshKeys: z.array(z.string()),
  uid: z.number().int().optional(),
});

export const users = defineStage({
  name: 'users',
  version: 1,
  kind: 'tree',
  summary: "Creates users with home folders, groups and SSH keys, and sets passwords from SHA-512 crypt hashes (plain-text passwords never reach the image or the plan). Root stays locked unless the recipe gives it a password.",
  options: z.strictObject({ rootPasswordHash: z.string().nullable(), users: z.array(User) }),
  async run(ctx, o) {
    const groups = readGroups(ctx.root);
    for (const user of o.users) {
      const missing = user.groups.filter((g) => !groups.has(g));
      if (missing.length) {
        throw new BuildError(`user ${user.name}: group ${missing.join(', ')} does not exist in the image (install the package that creates it, e.g. add "sudo" to packages)`);
      }
      await ctx.chroot('useradd', [
        '--create-home',
        '--user-group',
        '--shell', user.shell,
        ...(user.groups.length ? ['--groups', user.groups.join(',')] : []),
        ...(user.uid !== undefined ? ['--uid', String(user.uid)] : []),
        user.name,
      ]);
    }
    const hashes = [
      ...(o.rootPasswordHash ? [`root:${o.rootPasswordHash}`] : []),
      ...o.users.flatMap((u) => (u.passwordHash ? [`${u.name}:${u.passwordHash}`] : [])),
    ];
    if (hashes.length) await ctx.chroot('chpasswd', ['--encrypted'], { input: `${hashes.join('\n')}\n` });

    const accounts = readPasswd(ctx.root);
    for (const user of o.users.filter((u) => u.sshKeys.length)) {
      const account = accounts.find((a) => a.name === user.name);
      if (!account) throw new BuildError(`user ${user.name} is missing from /etc/passwd after useradd`);
      const dir = join(ctx.root, account.home, '.ssh');
      await mkdir(dir, { mode: 0o700, recursive: true });
      await writeFile(join(dir, 'authorized_keys'), `${user.sshKeys.join('\n')}\n`, { mode: 0o600 });
      await chown(dir, account.uid, account.gid);
      await chown(join(dir, 'authorized_keys'), account.uid, account.gid);
    }
  },
});
