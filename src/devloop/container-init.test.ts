import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseFailedUnits } from './container-init.js';

void test("failed units are the first word of systemctl --failed's plain lines", () => {
  const text = 'systemd-remount-fs.service loaded failed failed Remount Root and Kernel File Systems\nkiln-demo.service         loaded failed failed kiln demo service\n\n';
  assert.deepEqual(parseFailedUnits(text), ['systemd-remount-fs.service', 'kiln-demo.service']);
  assert.deepEqual(parseFailedUnits('0 loaded units listed.\n'), []);
});
