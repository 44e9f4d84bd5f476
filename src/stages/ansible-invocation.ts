/**
 * One ansible-playbook run as kiln starts it, for the ansible stage (against an image root) and
 * for `kiln apply` (against a running `kiln run` container): the inventory of one host through
 * kiln's connection plugin, the variables, and the environment. Only the connection differs: an
 * image root is reached with chroot, a container through its init's namespaces (nsenter).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { CONNECTION_PLUGIN } from './ansible-plugin.js';

const Value = z.union([z.string(), z.number(), z.boolean(), z.array(z.string())]);

export const AnsibleOptions = z.strictObject({
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
});
export type AnsibleOptions = z.infer<typeof AnsibleOptions>;

/** Where modules are copied in the image while they run; removed afterwards. */
export const REMOTE_TMP = '/tmp/.kiln-ansible';

/** An image root on this machine, or the init process of a running container (`pid:N`). */
export type AnsibleTarget = { root: string } | { pid: number };

export interface PlaybookRun {
  /** ansible-playbook's arguments after the program name. */
  args: string[];
  env: Record<string, string>;
  /** Run ansible-playbook here: roles and relative paths start beside the playbook. */
  cwd: string;
  /** ANSIBLE_LOG_PATH: what ansibleFailure reads after a failed run. */
  log: string;
}

/** Writes the plugin, inventory and variables into `scratch` and returns how to run the playbook. */
export async function preparePlaybook(o: AnsibleOptions, folder: string, scratch: string, target: AnsibleTarget): Promise<PlaybookRun> {
  const playbook = join(folder, o.playbook);
  const plugins = join(scratch, 'connection_plugins');
  await mkdir(plugins, { recursive: true });
  await writeFile(join(plugins, 'kiln_chroot.py'), CONNECTION_PLUGIN);
  const address = 'root' in target ? target.root : `pid:${target.pid}`;
  const inventory = join(scratch, 'inventory.json');
  const host = { ansible_connection: 'kiln_chroot', ansible_host: address, ansible_python_interpreter: '/usr/bin/python3', ansible_remote_tmp: REMOTE_TMP, ...o.inventoryVars };
  await writeFile(inventory, JSON.stringify({ all: { hosts: { [o.host]: host } } }));
  // kiln_root: the root's path on the host; a container's is its init's /proc/N/root.
  const root = 'root' in target ? target.root : `/proc/${target.pid}/root`;
  const extra = join(scratch, 'extra-vars.json');
  await writeFile(extra, JSON.stringify({ kiln_root: root, ...o.extraVars }));
  const log = join(scratch, 'ansible.log');
  const env = {
    ANSIBLE_CONNECTION_PLUGINS: plugins,
    ANSIBLE_ROLES_PATH: [...(o.rolesPath === null ? [] : [join(folder, o.rolesPath)]), join(dirname(playbook), 'roles')].join(':'),
    ANSIBLE_LOG_PATH: log,
    ANSIBLE_LOCAL_TEMP: join(scratch, 'local-tmp'),
    ANSIBLE_PIPELINING: '1',
    ANSIBLE_NOCOLOR: '1',
    ANSIBLE_RETRY_FILES_ENABLED: '0',
    ANSIBLE_HOST_KEY_CHECKING: '0',
    ANSIBLE_STDOUT_CALLBACK: 'default',
    // Each task's line as it starts, not when Python's buffer fills: they are the progress.
    PYTHONUNBUFFERED: '1',
    HOME: scratch,
  };
  return { args: ['-i', inventory, '--extra-vars', `@${extra}`, playbook], env, cwd: dirname(playbook), log };
}
