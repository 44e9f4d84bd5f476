import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { configPath, loadRemote, resolveRemote } from './remote-config.js';

const FILE = { server: 'http://file:1', token: 'file-token' };

void test('each value comes from the flag, else the environment, else the file', () => {
  const env = { KILN_SERVER: 'http://env:1', KILN_TOKEN: 'env-token' };
  assert.deepEqual(resolveRemote({ server: 'http://flag:1', token: 'flag-token' }, env, FILE, 'f'), { server: 'http://flag:1', token: 'flag-token' });
  assert.deepEqual(resolveRemote({}, env, FILE, 'f'), { server: 'http://env:1', token: 'env-token' });
  assert.deepEqual(resolveRemote({}, {}, FILE, 'f'), FILE);
  // Independently per value.
  assert.deepEqual(resolveRemote({ token: 'flag-token' }, { KILN_SERVER: 'http://env:1' }, FILE, 'f'), { server: 'http://env:1', token: 'flag-token' });
  // An empty variable counts as unset.
  assert.deepEqual(resolveRemote({}, { KILN_SERVER: '' }, FILE, 'f'), FILE);
});

void test('a missing value or a server that is not a URL is a user error naming every source', () => {
  assert.throws(() => resolveRemote({}, {}, undefined, '/home/u/.config/kiln/remote.json'), {
    name: 'UserError',
    message: 'no server: pass --server URL, set KILN_SERVER, or write {"server": URL, "token": T} to /home/u/.config/kiln/remote.json',
  });
  assert.throws(() => resolveRemote({ server: 'http://x' }, {}, undefined, 'f'), /^UserError: no token: pass --token T, set KILN_TOKEN, or add "token" to f/);
  assert.throws(() => resolveRemote({ server: 'build.example:8080', token: 't' }, {}, undefined, 'f'), { message: 'server "build.example:8080": expected a URL such as http://127.0.0.1:8080' });
});

void test('the config file lives under XDG_CONFIG_HOME, else ~/.config; a broken one is named', () => {
  assert.equal(configPath({ XDG_CONFIG_HOME: '/x', HOME: '/h' }), '/x/kiln/remote.json');
  assert.equal(configPath({ HOME: '/h' }), '/h/.config/kiln/remote.json');
  const home = mkdtempSync(join(tmpdir(), 'kiln-remote-config-'));
  try {
    const env = { HOME: home };
    assert.throws(() => loadRemote({}, env), /^UserError: no server/);
    mkdirSync(join(home, '.config', 'kiln'), { recursive: true });
    writeFileSync(join(home, '.config', 'kiln', 'remote.json'), JSON.stringify(FILE));
    assert.deepEqual(loadRemote({}, env), FILE);
    assert.deepEqual(loadRemote({}, { ...env, KILN_TOKEN: 'env' }), { server: FILE.server, token: 'env' });
    writeFileSync(join(home, '.config', 'kiln', 'remote.json'), '{"server": 1}');
    assert.throws(() => loadRemote({}, env), /remote\.json: server: .*expected \{"server": URL, "token": T\}$/);
    // Not read at all when flags and variables say everything.
    assert.deepEqual(loadRemote({ server: 'http://a' }, { ...env, KILN_TOKEN: 't' }), { server: 'http://a', token: 't' });
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});
