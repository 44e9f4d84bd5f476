import { chown, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { BuildError } from '../errors.js';
import { defineStage, type StageContext } from './define.js';
import { readGroups, readPasswd } from './image-accounts.js';

const User = z.strictObject({
  name: z.string(),
  passwordHash: z.string().nullable(),
  groups: z.array(z.string()),
  shell: z.string(),
  sshKeys: z.array(z.string()),
  uid: z.number().int().optional(),
  /** The primary group, by gid or name; absent: a new group named after the user. */
  gid: z.union([z.number().int(), z.string()]).optional(),
  home: z.string().optional(),
  description: z.string().optional(),
});

const Group = z.strictObject({ name: z.string(), gid: z.number().int().optional() });

export const users = defineStage({
  name: 'users',
  version: 1,
  kind: 'tree',
  summary: "Creates the recipe's groups (with their gids), then users with home folders, uids, primary groups, groups and SSH keys, and sets passwords from SHA-512 crypt hashes (plain-text passwords never reach the image or the plan). Root stays locked unless the recipe gives it a password.",
  options: z.strictObject({ rootPasswordHash: z.string().nullable(), users: z.array(User), groups: z.array(Group).default([]) }),
  async run(ctx, o) {
    await createGroups(ctx, o.groups);
    const groups = readGroups(ctx.root);
    for (const user of o.users) {
      const missing = [...user.groups, ...(typeof user.gid === 'string' ? [user.gid] : [])].filter((g) => !groups.has(g));
      if (missing.length) {
        throw new BuildError(`user ${user.name}: group ${missing.join(', ')} does not exist in the image (add it to groups, or install the package that creates it, e.g. add "sudo" to packages)`);
      }
      await ctx.chroot('useradd', [
        '--create-home',
        ...(user.gid === undefined ? ['--user-group'] : ['--gid', String(user.gid)]),
        '--shell', user.shell,
        ...(user.groups.length ? ['--groups', user.groups.join(',')] : []),
        ...(user.uid !== undefined ? ['--uid', String(user.uid)] : []),
        ...(user.home !== undefined ? ['--home-dir', user.home] : []),
        ...(user.description !== undefined ? ['--comment', user.description] : []),
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

/**
 * A group a package already made (users, video, ...) is kept, and moved to the recipe's gid if it
 * names another: the recipe says what the image's group table must hold, not how to get there.
 */
async function createGroups(ctx: StageContext, groups: z.output<typeof Group>[]): Promise<void> {
  const existing = readGroups(ctx.root);
  for (const group of groups) {
    const gid = group.gid === undefined ? [] : ['--gid', String(group.gid)];
    if (!existing.has(group.name)) await ctx.chroot('groupadd', [...gid, group.name]);
    else if (group.gid !== undefined && existing.get(group.name) !== group.gid) await ctx.chroot('groupmod', [...gid, group.name]);
  }
}
