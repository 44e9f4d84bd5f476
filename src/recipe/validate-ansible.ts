/**
 * The `ansible` key, checked before anything runs: the playbook exists and is YAML, and every role
 * its plays name is in roles_path or in roles/ beside the playbook. Ansible itself checks the rest
 * (modules, task syntax) when it runs; a mistake found here costs no build.
 */
import { dirname, join } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { resolveInside } from './files.js';
import type { Origin } from './origins.js';
import { readSourceText } from './read-text.js';
import type { Recipe } from './schema.js';
import { show, type KeyPath } from './source.js';

type Fail = (path: KeyPath, message: string) => void;

export function validateAnsible(recipe: Recipe, originOf: (path: KeyPath) => Origin, fail: Fail): void {
  const ansible = recipe.ansible;
  if (!ansible) return;
  const origin = originOf(['ansible', 'playbook']);
  const owner = origin.name === 'recipe' ? 'recipe' : 'layer';
  const at: KeyPath = ['ansible', 'playbook'];
  const playbook = resolveInside(origin.folder, ansible.playbook, owner);
  if ('error' in playbook) return fail(at, `${show(ansible.playbook)} ${playbook.error}`);
  if (playbook.kind !== 'file') return fail(at, `${show(ansible.playbook)} is a folder; give the playbook file in it (e.g. site.yml)`);

  const places: { folder: string; shown: string }[] = [];
  if (ansible.roles_path !== undefined) {
    const roles = resolveInside(origin.folder, ansible.roles_path, owner);
    if ('error' in roles) fail(['ansible', 'roles_path'], `${show(ansible.roles_path)} ${roles.error}`);
    else if (roles.kind !== 'dir') fail(['ansible', 'roles_path'], `${show(ansible.roles_path)} is a file; give the folder that holds the roles`);
    else places.push({ folder: roles.path, shown: ansible.roles_path });
  }
  const beside = join(dirname(ansible.playbook), 'roles');
  places.push({ folder: dirname(playbook.path), shown: beside });

  const read = readSourceText(playbook.path, ansible.playbook, owner);
  if ('error' in read) return fail(at, `${show(ansible.playbook)}: ${read.error.message}`);
  const lines = new LineCounter();
  const doc = parseDocument(read.text, { lineCounter: lines, prettyErrors: false });
  const [error] = doc.errors;
  if (error) {
    const { line, col } = lines.linePos(error.pos[0]);
    return fail(at, `${ansible.playbook}:${line}:${col}: is not valid YAML: ${error.message.split('\n')[0] ?? ''}`);
  }
  for (const role of rolesOf(doc.toJS())) {
    // A role from a collection (namespace.collection.role) is Ansible's to find.
    if (role.includes('.') || role.includes('{')) continue;
    const found = places.some((p, i) => !('error' in resolveInside(p.folder, i === places.length - 1 ? join('roles', role) : role)));
    if (!found) {
      const where = places.length === 1 ? `not in ${beside}/` : `in neither ${places.map((p) => `${p.shown}/`).join(' nor ')}`;
      fail(at, `${show(ansible.playbook)} uses the role ${show(role)}, which is ${where} (make ${places[0]?.shown ?? beside}/${role}/tasks/main.yml, or set ansible.roles_path)`);
    }
  }
}

/** The role names a playbook's plays list under `roles:` (a name, or `{ role: name }`). */
export function rolesOf(playbook: unknown): string[] {
  if (!Array.isArray(playbook)) return [];
  return playbook.flatMap((play: unknown) => {
    const roles = play && typeof play === 'object' ? (play as { roles?: unknown }).roles : undefined;
    if (!Array.isArray(roles)) return [];
    return roles.flatMap((r: unknown) => {
      if (typeof r === 'string') return [r];
      const named = r && typeof r === 'object' ? ((r as { role?: unknown; name?: unknown }).role ?? (r as { name?: unknown }).name) : undefined;
      return typeof named === 'string' ? [named] : [];
    });
  });
}
