import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ansibleFailure, describeFailure } from './ansible-output.js';

const prefix = '2026-12-02 11:30:00,123 p=42 u=root n=ansible | ';

void test('a failed task is named with its host and the module message', () => {
  const log = [
    'PLAY [all] ***',
    'TASK [demo : install a package] ***',
    'ok: [devloop]',
    'TASK [this task fails on purpose] ***',
    'fatal: [devloop]: FAILED! => {"changed": true, "cmd": ["/bin/false"], "msg": "non-zero return code", "rc": 1, "stderr": ""}',
    'PLAY RECAP ***',
  ].map((l) => prefix + l).join('\n');
  const failure = ansibleFailure(log);
  assert.deepEqual(failure, { task: 'this task fails on purpose', host: 'devloop', message: 'non-zero return code' });
  assert.equal(describeFailure(failure ?? { message: '' }), 'task "this task fails on purpose" failed on host devloop: non-zero return code');
});

void test('a loop item failure and a command stderr', () => {
  const log = ['TASK [x] ***', 'failed: [h] (item=a) => {"msg": "boom", "stderr": "no such file"}'].join('\n');
  assert.deepEqual(ansibleFailure(log), { task: 'x', host: 'h', message: 'boom: no such file' });
});

void test("Ansible's own errors before any task keep the file and line it names", () => {
  const log = [`${prefix}ERROR! couldn't resolve module/action 'nope'.`, '', "The error appears to be in '/p/site.yml': line 3, column 7"].join('\n');
  const failure = ansibleFailure(log);
  assert.equal(failure?.task, undefined);
  assert.match(describeFailure(failure ?? { message: '' }), /^ansible-playbook failed: couldn't resolve module\/action 'nope'\. The error appears to be in '\/p\/site\.yml': line 3, column 7$/);
  assert.equal(ansibleFailure('PLAY RECAP\nok'), undefined);
});
