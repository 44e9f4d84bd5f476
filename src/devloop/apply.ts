/**
 * `kiln apply RECIPE`: the recipe's Ansible playbook applied to its running `kiln run` container,
 * edi's "same configuration for the image and the container". ansible-playbook runs on the host,
 * as in the build, and each module enters the container's namespaces and root through its init
 * process (nsenter), so the container's private mount stays private and nothing is left behind.
 * Services start as the playbook says: this is a running system, not an image being built.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planRecipe } from '../engine/plan.js';
import { BuildError, UserError } from '../errors.js';
import { machineName } from '../host/nspawn.js';
import { containerInits } from './container-init.js';
import { onPath } from '../host/tools.js';
import type { LoadOptions } from '../recipe/index.js';
import { removeTree } from '../store/store.js';
import { ansibleFailure, describeFailure } from '../stages/ansible-output.js';
import { AnsibleOptions, preparePlaybook } from '../stages/ansible-invocation.js';

export interface ApplyRequest {
  recipe: string;
  load: LoadOptions;
}

/**
 * Applies the playbook, its output on kiln's own stdout and stderr; resolves when ansible-playbook
 * succeeded, throws BuildError naming a failed task.
 */
export async function applyToContainer(request: ApplyRequest): Promise<{ host: string; pid: number }> {
  const { manifest } = planRecipe(request.recipe, request.load);
  const step = manifest.stages.find((s) => s.stage === 'ansible');
  if (!step) throw new UserError(`${request.recipe}: the recipe and its layers set no ansible playbook, so there is nothing to apply (add ansible: { playbook: ... })`);
  if (!onPath('ansible-playbook')) throw new UserError('ansible-playbook is not installed (Debian package ansible-core); install it with: apt-get install ansible-core, or kiln doctor --install');
  const options = AnsibleOptions.parse(step.options);
  const pid = containerInit(machineName(manifest.name), request.recipe);
  const folder = manifest.folders[options.from];
  if (folder === undefined) throw new Error(`no folder is known for ${options.from}`);
  const scratch = mkdtempSync(join(tmpdir(), 'kiln-apply-'));
  try {
    const run = await preparePlaybook(options, folder, scratch, { pid });
    const status = await new Promise<number>((done, fail) => {
      const child = spawn('ansible-playbook', run.args, { cwd: run.cwd, env: { ...process.env, ...run.env }, stdio: ['ignore', 'inherit', 'inherit'] });
      child.on('error', fail);
      child.on('exit', (code, signal) => done(code ?? (signal ? 128 : 1)));
    });
    if (status !== 0) {
      const failure = ansibleFailure(await readFile(run.log, 'utf8').catch(() => ''));
      const command = `ansible-playbook ${options.playbook}`;
      throw new BuildError(failure ? describeFailure(failure) : `ansible-playbook exited with status ${status}`, 'apply', command, []);
    }
    return { host: options.host, pid };
  } finally {
    removeTree(scratch);
  }
}

/** The init process of the one running `kiln run` container of this machine name. */
function containerInit(machine: string, recipe: string): number {
  const inits = containerInits((argv) => argv.includes('--boot') && argv.includes(`--machine=${machine}`));
  if (inits.length === 0) throw new UserError(`no kiln run container of ${machine} is running; start one first (in another terminal) with: kiln run ${recipe}`);
  if (inits.length > 1) throw new UserError(`${inits.length} kiln run containers of ${machine} are running (init processes ${inits.join(', ')}); stop all but one`);
  return inits[0] as number;
}
