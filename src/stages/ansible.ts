import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { BuildError } from '../errors.js';
import { defineStage, originFolder } from './define.js';
import { ansibleFailure, describeFailure } from './ansible-output.js';
import { CONNECTION_PLUGIN } from './ansible-plugin.js';
import { API_MOUNTS } from '../host/chroot.js';

const Value = z.union([z.string(), z.number(), z.boolean(), z.array(z.string())]);

/**
 * The API file systems mounted into the root in a private mount namespace, as for every command
 * in the image (src/host/chroot.ts), but ansible-playbook itself runs on the host: only its modules
 * run inside, through the kiln_chroot connection.
 */
const MOUNTS = [...API_MOUNTS, 'exec "$@"'].join('\n');

/** Where modules are copied in the image while they run; removed afterwards. */
const REMOTE_TMP = '/tmp/.kiln-ansible';

export const ansible = defineStage({
  name: 'ansible',
  version: 1,
  kind: 'tree',
  summary:
    "Applies the recipe's Ansible playbook to the image root: ansible-playbook runs on the host (Debian's ansible-core) and its modules run inside the image through kiln's chroot connection, with services kept from starting (policy-rc.d). Task names stream to build.log; a failed task fails the build naming the task, the host and Ansible's message.",
  options: z.strictObject({
    /** "recipe" or the layer whose folder the playbook is in. */
    from: z.string(),
    playbook: z.string(),
    rolesPath: z.string().nullable(),
    extraVars: z.record(z.string(), Value),
    inventoryVars: z.record(z.string(), Value),
    /** The inventory's one host (the image's hostname): what `hosts:` and messages name. */
    host: z.string(),
    /** The playbook's folder (and roles_path), hashed: a changed role reruns this stage. */
    sha256: z.string(),
  }),
  async run(ctx, o) {
    const folder = originFolder(ctx, o.from);
    const playbook = join(folder, o.playbook);
    const plugins = join(ctx.scratch, 'connection_plugins');
    await mkdir(plugins, { recursive: true });
    await writeFile(join(plugins, 'kiln_chroot.py'), CONNECTION_PLUGIN);
    const inventory = join(ctx.scratch, 'inventory.json');
    const host = { ansible_connection: 'kiln_chroot', ansible_host: ctx.root, ansible_python_interpreter: '/usr/bin/python3', ansible_remote_tmp: REMOTE_TMP, ...o.inventoryVars };
    await writeFile(inventory, JSON.stringify({ all: { hosts: { [o.host]: host } } }));
    const extra = join(ctx.scratch, 'extra-vars.json');
    await writeFile(extra, JSON.stringify({ kiln_root: ctx.root, ...o.extraVars }));
    const log = join(ctx.scratch, 'ansible.log');
    const env = {
      ANSIBLE_CONNECTION_PLUGINS: plugins,
      ANSIBLE_ROLES_PATH: [...(o.rolesPath === null ? [] : [join(folder, o.rolesPath)]), join(dirname(playbook), 'roles')].join(':'),
      ANSIBLE_LOG_PATH: log,
      ANSIBLE_LOCAL_TEMP: join(ctx.scratch, 'local-tmp'),
      ANSIBLE_PIPELINING: '1',
      ANSIBLE_NOCOLOR: '1',
      ANSIBLE_RETRY_FILES_ENABLED: '0',
      ANSIBLE_HOST_KEY_CHECKING: '0',
      ANSIBLE_STDOUT_CALLBACK: 'default',
      // Each task's line as it starts, not when Python's buffer fills: they are the stage's progress.
      PYTHONUNBUFFERED: '1',
      HOME: ctx.scratch,
    };
    const policy = join(ctx.root, 'usr/sbin/policy-rc.d');
    const hadAnsibleHome = existsSync(join(ctx.root, 'root/.ansible'));
    await writeFile(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
    ctx.log(`applying ${o.playbook}${o.from === 'recipe' ? '' : ` (layer ${o.from})`} to host ${o.host}`);
    try {
      await ctx.exec(
        'unshare',
        ['--mount', '--propagation', 'private', '--pid', '--fork', '--kill-child', '--', '/bin/sh', '-c', MOUNTS, 'kiln-ansible', ctx.root, 'ansible-playbook', '-i', inventory, '--extra-vars', `@${extra}`, playbook],
        { cwd: dirname(playbook), env, label: `ansible-playbook ${o.playbook}` },
      );
    } catch (err) {
      if (!(err instanceof BuildError)) throw err;
      const failure = ansibleFailure(await readFile(log, 'utf8').catch(() => ''));
      throw failure ? new BuildError(describeFailure(failure), 'ansible', err.command, err.tail) : err;
    } finally {
      await rm(policy, { force: true });
      await rm(join(ctx.root, REMOTE_TMP.slice(1)), { recursive: true, force: true });
      if (!hadAnsibleHome) await rm(join(ctx.root, 'root/.ansible'), { recursive: true, force: true });
    }
  },
});
