import { existsSync, readdirSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { defineStage } from './define.js';

const UNIT = 'kiln-ssh-host-keys.service';

/** Makes the keys before sshd starts, once: the condition holds only while there are none. */
const UNIT_TEXT = `# Written by kiln: every machine makes its own SSH host keys on its first boot.
[Unit]
Description=Make this machine's SSH host keys
Before=ssh.service systemd-user-sessions.service
ConditionPathExists=!/etc/ssh/ssh_host_ed25519_key

[Service]
Type=oneshot
ExecStart=/usr/bin/ssh-keygen -A
StandardOutput=journal+console

[Install]
WantedBy=multi-user.target ssh.service
`;

/**
 * Installing openssh-server makes host keys. Baked into an image, every machine made from it would
 * share them, and no two builds would be the same: they are removed, and a unit makes them on the
 * machine's first boot. Runs after every other tree stage, so keys a hook made go too.
 */
export const sshHostKeys = defineStage({
  name: 'ssh-host-keys',
  version: 1,
  kind: 'tree',
  summary: "Removes SSH host keys (installing openssh-server makes them) and enables kiln-ssh-host-keys.service, which makes each machine's own keys on its first boot.",
  options: z.strictObject({}),
  async run(ctx) {
    const ssh = join(ctx.root, 'etc/ssh');
    const keys = existsSync(ssh) ? readdirSync(ssh).filter((f) => f.startsWith('ssh_host_')) : [];
    if (!keys.length) return void ctx.log('no SSH host keys in the image');
    for (const key of keys) await rm(join(ssh, key));
    ctx.log(`removed ${keys.length} SSH host key files`);
    if (!existsSync(join(ctx.root, 'usr/bin/systemctl'))) {
      ctx.log('no systemd in the image: whatever starts sshd must make the keys first (ssh-keygen -A)');
      return;
    }
    await writeFile(join(ctx.root, 'etc/systemd/system', UNIT), UNIT_TEXT);
    await ctx.chroot('systemctl', ['enable', UNIT]);
  },
});
