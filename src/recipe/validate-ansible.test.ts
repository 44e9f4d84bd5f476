import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { checkedManifest } from '../engine/plan.js';
import { UserError } from '../errors.js';
import { parseRecipe } from './index.js';
import { rolesOf } from './validate-ansible.js';
import { plannedPackages } from '../manifest/package-sets.js';

const dir = mkdtempSync(join(tmpdir(), 'kiln-ansible-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const write = (path: string, text: string) => {
  mkdirSync(join(dir, path, '..'), { recursive: true });
  writeFileSync(join(dir, path), text);
};
write('ansible/site.yml', '- hosts: all\n  roles: [web]\n');
write('ansible/roles/web/tasks/main.yml', '- ansible.builtin.debug: { msg: hi }\n');
write('ansible/missing.yml', '- hosts: all\n  roles: [web, { role: db }, community.general.thing]\n');
write('ansible/broken.yml', '- hosts: all\n  tasks: [\n');
write('layers/pb/layer.yaml', 'ansible: { playbook: play.yml }\n');
write('layers/pb/play.yml', '- hosts: all\n  tasks: []\n');

const recipe = (ansible: string) => `name: a\nansible: ${ansible}\n`;
const problem = (text: string) => {
  try {
    parseRecipe(join(dir, 'r.yaml'), text, dir, { env: {} });
  } catch (err) {
    if (err instanceof UserError) return err.message;
    throw err;
  }
  return 'no error';
};

void test('the roles a playbook names, written either way', () => {
  assert.deepEqual(rolesOf([{ hosts: 'all', roles: ['a', { role: 'b', vars: {} }, { name: 'c' }, 3] }, { hosts: 'x' }]), ['a', 'b', 'c']);
  assert.deepEqual(rolesOf({ not: 'a list' }), []);
});

void test('a missing playbook, role or roles_path, or a playbook that is not YAML, is named at the recipe key', () => {
  const at = `${join(dir, 'r.yaml')}:2:22 ansible.playbook:`;
  assert.equal(problem(recipe('{ playbook: ansible/nope.yml }')), `${at} "ansible/nope.yml" does not exist (paths are relative to the recipe file)`);
  assert.equal(
    problem(recipe('{ playbook: ansible/missing.yml }')),
    `${at} "ansible/missing.yml" uses the role "db", which is not in ansible/roles/ (make ansible/roles/db/tasks/main.yml, or set ansible.roles_path)`,
  );
  assert.match(problem(recipe('{ playbook: ansible/broken.yml }')), /ansible\.playbook: ansible\/broken\.yml:3:1: is not valid YAML: /);
  assert.match(problem(recipe('{ playbook: ansible/site.yml, roles_path: roles }')), /ansible\.roles_path: "roles" does not exist/);
  assert.equal(problem(recipe('{ playbook: ansible/site.yml }')), 'no error');
});

void test("a layer's playbook is found in the layer's folder and hashed into the stage", () => {
  const loaded = parseRecipe(join(dir, 'r.yaml'), 'name: a\nlayers: [pb]\n', dir, { env: {} });
  const options = checkedManifest(loaded).stages.find((s) => s.stage === 'ansible')?.options;
  assert.equal(options?.from, 'pb');
  assert.equal(options?.playbook, 'play.yml');
  const bootstrap = plannedPackages(checkedManifest(loaded).stages);
  assert.ok(bootstrap.includes('python3') && bootstrap.includes('python3-apt'));
});
