import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SCOPES, type Scope } from '../protocol.js';
import { grants, newSecret, parseToken, secretMatches, sha256Hex } from './tokens.js';

void describe('tokens', () => {
  void it('parse as kiln_<id>_<secret> and match only their own hash', () => {
    const secret = newSecret();
    assert.deepEqual(parseToken(`kiln_0123456789ab_${secret}`), { id: '0123456789ab', secret });
    for (const bad of ['kiln_short_x', `kiln_UPPER00000_${secret}`, `bearer_0123456789ab_${secret}`, `kiln_0123456789ab_${secret} `]) assert.equal(parseToken(bad), undefined, bad);
    assert.ok(secretMatches(secret, sha256Hex(secret)));
    assert.ok(!secretMatches(`${secret}x`, sha256Hex(secret)));
    assert.ok(!secretMatches(secret, 'not hex'));
  });

  void it('grant scopes by the documented matrix', () => {
    const table: [Scope[], Scope, boolean][] = [
      [['admin'], 'read', true],
      [['admin'], 'worker', true],
      [['build'], 'read', true],
      [['build'], 'admin', false],
      [['build'], 'worker', false],
      [['read'], 'build', false],
      [['worker'], 'read', false],
      [['worker'], 'worker', true],
      [['read', 'worker'], 'worker', true],
    ];
    for (const [held, needed, expected] of table) assert.equal(grants(held, needed), expected, `${held.join('+')} → ${needed}`);
    for (const scope of SCOPES) assert.ok(grants([scope], scope));
  });
});
