import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BuildError } from '../errors.js';
import { defineStage, originFolder } from './define.js';
import { ansibleFailure, describeFailure } from './ansible-output.js';
import { AnsibleOptions, preparePlaybook, REMOTE_TMP } from './ansible-invocation.js';
import { API_MOUNTS } from '../host/chroot.js';

/**
 * The API file systems mounted into the root in a private mount namespace, as for every command
 * in the image (src/host/chroot.ts), but ansible-playbook itself runs on the host: only its modules
 * run inside, through the kiln_chroot connection.
 */
const MOUNTS = [...API_MOUNTS, 'exec "$@"'].join('\n');

export const ansible = defineStage({
  name: 'ansible',
  version: 1,
  kind: 'tree',
  summary:
    "Applies the recipe's Ansible playbook to the image root: ansible-playbook runs on the host (Debian's ansible-core) and its modules run inside the image through kiln's chroot connection, with services kept from starting (policy-rc.d). Task names stream to build.log; a failed task fails the build naming the task, the host and Ansible's message.",
  options: AnsibleOptions,
  async run(ctx, o) {
    const run = await preparePlaybook(o, originFolder(ctx, o.from), ctx.scratch, { root: ctx.root });
    const policy = join(ctx.root, 'usr/sbin/policy-rc.d');
    const hadAnsibleHome = existsSync(join(ctx.root, 'root/.ansible'));
    await writeFile(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
    ctx.log(`applying ${o.playbook}${o.from === 'recipe' ? '' : ` (layer ${o.from})`} to host ${o.host}`);
    try {
      await ctx.exec(
        'unshare',
        ['--mount', '--propagation', 'private', '--pid', '--fork', '--kill-child', '--', '/bin/sh', '-c', MOUNTS, 'kiln-ansible', ctx.root, 'ansible-playbook', ...run.args],
        { cwd: run.cwd, env: run.env, label: `ansible-playbook ${o.playbook}` },
      );
    } catch (err) {
      if (!(err instanceof BuildError)) throw err;
      const failure = ansibleFailure(await readFile(run.log, 'utf8').catch(() => ''));
      throw failure ? new BuildError(describeFailure(failure), 'ansible', err.command, err.tail) : err;
    } finally {
      await rm(policy, { force: true });
      await rm(join(ctx.root, REMOTE_TMP.slice(1)), { recursive: true, force: true });
      if (!hadAnsibleHome) await rm(join(ctx.root, 'root/.ansible'), { recursive: true, force: true });
    }
  },
});
