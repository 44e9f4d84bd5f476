import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildSet, checkVariable, type Variable } from './variables.js';

const port: Variable = { name: 'SSH_PORT', default: '22', pattern: '^[0-9]{1,5}$', description: 'the port sshd listens on', from: 'ssh-server' };
const host: Variable = { name: 'HOSTNAME', default: 'kiln', from: 'recipe' };
const required: Variable = { name: 'TOKEN', from: 'recipe' };

void test('a value is checked against its pattern, with a message naming both', () => {
  assert.equal(checkVariable(port, '2222'), undefined);
  assert.equal(checkVariable(port, '22x'), 'SSH_PORT: "22x" does not match the pattern ^[0-9]{1,5}$');
  assert.equal(checkVariable(host, 'anything at all'), undefined);
});

void test('only values that differ from their defaults are sent', () => {
  assert.deepEqual(buildSet([port, host], { SSH_PORT: '22', HOSTNAME: 'web1' }), { set: { HOSTNAME: 'web1' } });
  assert.deepEqual(buildSet([port, host], {}), { set: {} });
});

void test('every bad value is reported, and nothing is sent', () => {
  assert.deepEqual(buildSet([port, required], { SSH_PORT: 'x' }), {
    errors: { SSH_PORT: 'SSH_PORT: "x" does not match the pattern ^[0-9]{1,5}$', TOKEN: 'TOKEN: needs a value (it has no default)' },
  });
  assert.deepEqual(buildSet([required], { TOKEN: 'abc' }), { set: { TOKEN: 'abc' } });
});

void test('a pattern the browser cannot compile is left to the server', () => {
  assert.equal(checkVariable({ name: 'X', pattern: '(', from: 'recipe' }, 'v'), undefined);
});
