/**
 * The ansible stage's options: where the playbook is, its variables, and a hash of everything the
 * playbook can read, so a changed role, template or variable file reruns the stage (and only what
 * comes after it) while an unchanged playbook is taken from the store.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import type { Ansible } from '../recipe/schema.js';
import type { OptionsOf } from '../stages/registry.js';
import { canonicalJson, sha256 } from '../host/canonical.js';
import { hashFile, hashTree } from './content-hash.js';

/** What ansible-playbook needs inside the image: Python for its modules, python3-apt for the apt module. */
export const ANSIBLE_PACKAGES = ['python3', 'python3-apt'];

/**
 * A playbook in a folder of its own is hashed with the whole folder. One that sits in the recipe's
 * (or layer's) own folder is hashed with the folders Ansible reads beside a playbook, not with the
 * recipe's other files (its build outputs, say).
 */
const BESIDE = ['roles', 'group_vars', 'host_vars', 'templates', 'files', 'vars', 'tasks', 'handlers', 'library', 'module_utils', 'filter_plugins'];

export function ansibleOptions(ansible: Ansible, from: string, folder: string, host: string): OptionsOf<'ansible'> {
  const playbook = resolve(folder, ansible.playbook);
  const dir = dirname(playbook);
  const parts: Record<string, string> = {};
  if (resolve(dir) === resolve(folder)) {
    parts[ansible.playbook] = hashFile(playbook);
    for (const name of BESIDE) {
      const path = join(dir, name);
      if (existsSync(path) && statSync(path).isDirectory()) parts[name] = hashTree(path);
    }
  } else parts[relative(folder, dir) || '.'] = hashTree(dir);
  if (ansible.roles_path !== undefined) parts[`roles_path:${ansible.roles_path}`] = hashTree(resolve(folder, ansible.roles_path));
  return {
    from,
    playbook: ansible.playbook,
    rolesPath: ansible.roles_path ?? null,
    extraVars: ansible.extra_vars,
    inventoryVars: ansible.inventory_vars,
    host,
    sha256: sha256(canonicalJson(parts)),
  };
}
