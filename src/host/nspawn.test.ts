import assert from 'node:assert/strict';
import { test } from 'node:test';
import { machineName, nspawnArgs, parseBind } from './nspawn.js';

void test('a command runs read-only in a container that registers nowhere', () => {
  assert.deepEqual(nspawnArgs({ directory: '/r', machine: 'm', console: 'pipe', readOnly: true, binds: [{ host: '/src', image: '/work' }], command: ['ls', '-l'] }), [
    '--quiet', '--register=no', '--keep-unit', '--directory=/r', '--machine=m', '--console=pipe', '--read-only', '--bind=/src:/work', '--', 'ls', '-l',
  ]);
});

void test('kiln run boots the init on a volatile root; no command means a shell', () => {
  assert.deepEqual(nspawnArgs({ directory: '/r', machine: 'm', console: 'read-only', boot: true, volatile: true, command: ['ignored'] }).slice(-2), ['--volatile=overlay', '--boot']);
  assert.equal(nspawnArgs({ directory: '/r', machine: 'm', console: 'interactive' }).at(-1), '--console=interactive');
});

void test('colons in bind paths are escaped for nspawn', () => {
  assert.ok(nspawnArgs({ directory: '/r', machine: 'm', console: 'pipe', binds: [{ host: '/a:b', image: '/c' }] }).includes('--bind=/a\\:b:/c'));
});

void test('--bind takes HOST:IMAGE with an absolute image path', () => {
  assert.deepEqual(parseBind('./src:/src'), { host: './src', image: '/src' });
  assert.deepEqual(parseBind('src'), { error: '--bind src: expected HOST:IMAGE (e.g. --bind ./src:/src)' });
  assert.deepEqual(parseBind('src:work'), { error: '--bind src:work: work must be an absolute path in the image without ".."' });
  assert.deepEqual(parseBind('src:/a/../etc'), { error: '--bind src:/a/../etc: /a/../etc must be an absolute path in the image without ".."' });
});

void test('machine names are hostname labels', () => {
  assert.equal(machineName('rpi.kiosk_v2'), 'rpi-kiosk-v2');
  assert.equal(machineName('...'), 'kiln');
});
