/** The plan that turns a root tree into an OSTree commit, and OSTree's rule for refs. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ostreeLayout, ostreeRefProblem, type TreeEntry } from './ostree-layout.js';

const dir = (path: string, mode = 0o755, uid = 0, gid = 0): TreeEntry => ({ path, type: 'dir', mode: 0o40000 | mode, uid, gid });
const file = (path: string): TreeEntry => ({ path, type: 'file', mode: 0o100644, uid: 0, gid: 0 });
const KERNEL = { version: '6.12.0-1-amd64', vmlinuz: '/boot/vmlinuz-6.12.0-1-amd64', initrd: '/boot/initrd.img-6.12.0-1-amd64' };

const TREE: TreeEntry[] = [
  dir('bin'), { path: 'vmlinuz', type: 'link', mode: 0o120777, uid: 0, gid: 0 }, dir('boot'), file('boot/vmlinuz-6.12.0-1-amd64'), file('boot/initrd.img-6.12.0-1-amd64'), file('boot/config-6.12.0-1-amd64'),
  dir('dev'), { path: 'dev/null', type: 'other', mode: 0o20666, uid: 0, gid: 0 }, dir('etc'), dir('home'), dir('home/alice', 0o700, 1000, 1000), file('home/alice/.profile'),
  dir('root', 0o700), file('root/.bashrc'), dir('run'), dir('tmp', 0o1777), dir('tmp/left-over'), dir('usr'),
  dir('var'), dir('var/lib'), dir('var/lib/dpkg'), dir('var/lib/my data'), dir('var/lib/100%'), dir('var/tmp', 0o1777), file('var/lib/machine-state'), dir('var/log'), file('var/log/dpkg.log'),
];

void test('layout: /etc to /usr/etc, /var and the home folders seeded, the kernel in /usr/lib/modules, writable folders as links', () => {
  const plan = ostreeLayout(TREE, KERNEL);
  assert.deepEqual(plan.skip, ['/boot/config-6.12.0-1-amd64', '/boot/initrd.img-6.12.0-1-amd64', '/boot/vmlinuz-6.12.0-1-amd64', '/dev/null', '/etc', '/home', '/root', '/tmp/left-over', '/var/lib', '/var/log', '/var/tmp', '/vmlinuz']);
  assert.deepEqual(plan.copies, [
    { from: '/etc', to: '/usr/etc' },
    { from: '/var/lib', to: '/usr/share/kiln/var/lib' },
    { from: '/var/tmp', to: '/usr/share/kiln/var/tmp' },
    { from: '/var/log', to: '/usr/share/kiln/var/log' },
    { from: '/home/alice', to: '/usr/share/kiln/var/home/alice' },
    { from: '/root/.bashrc', to: '/usr/share/kiln/var/roothome/.bashrc' },
    { from: '/boot/vmlinuz-6.12.0-1-amd64', to: '/usr/lib/modules/6.12.0-1-amd64/vmlinuz' },
    { from: '/boot/initrd.img-6.12.0-1-amd64', to: '/usr/lib/modules/6.12.0-1-amd64/initramfs.img' },
  ]);
  assert.deepEqual(plan.links.find((l) => l.path === '/home'), { path: '/home', target: 'var/home' });
  assert.deepEqual(plan.links.find((l) => l.path === '/ostree'), { path: '/ostree', target: 'sysroot/ostree' });
  assert.equal(plan.links.find((l) => l.path === '/tmp'), undefined, '/tmp stays a folder');
  assert.deepEqual(plan.dirs, ['/sysroot']);
  assert.equal(
    plan.tmpfiles,
    [
      '# Written by kiln: /var as the image was built, copied from /usr/share/kiln/var wherever it is missing.',
      'd /var/lib 0755 0 0 -',
      'C /var/lib/dpkg - - - - /usr/share/kiln/var/lib/dpkg',
      'C /var/lib/my\\x20data - - - - /usr/share/kiln/var/lib/my\\x20data',
      'C /var/lib/100%% - - - - /usr/share/kiln/var/lib/100%%',
      'C /var/lib/machine-state - - - - /usr/share/kiln/var/lib/machine-state',
      'd /var/tmp 1777 0 0 -',
      'd /var/log 0755 0 0 -',
      'C /var/log/dpkg.log - - - - /usr/share/kiln/var/log/dpkg.log',
      'd /var/home 0755 0 0 -',
      'd /var/home/alice 0700 1000 1000 -',
      'C /var/home/alice/.profile - - - - /usr/share/kiln/var/home/alice/.profile',
      'd /var/roothome 0700 0 0 -',
      'C /var/roothome/.bashrc - - - - /usr/share/kiln/var/roothome/.bashrc',
      'd /run/media 0755 root root -',
      '',
    ].join('\n'),
  );
});

void test('refs: OSTree\'s characters, no empty or dot-only components', () => {
  for (const ok of ['debian/trixie/amd64/edge', 'edge', 'a.b_c-d/1.0']) assert.equal(ostreeRefProblem(ok), undefined, ok);
  for (const bad of ['', '/edge', 'edge/', 'a//b', 'a/../b', '.', '-edge', 'os/.x', 'os/-x', 'a b', 'a:b', 'ä', 'x'.repeat(256)]) assert.notEqual(ostreeRefProblem(bad), undefined, bad);
});
