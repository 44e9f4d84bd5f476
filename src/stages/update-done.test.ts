import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { stageRecorder } from '../testing/stage-recorder.js';
import { updateDone, updatedFile, updatedTimestamp } from './update-done.js';

const NS = 1_000_000_000n;

/** systemd's ConditionNeedsUpdate (condition_test_needs_update): does /usr look newer than .updated? */
function needsUpdate(usr: { sec: bigint; nsec: bigint }, file: { sec: bigint; nsec: bigint }, text: string): boolean {
  if (usr.sec !== file.sec) return usr.sec > file.sec;
  if (usr.nsec === 0n || file.nsec > 0n) return usr.nsec > file.nsec;
  const stamp = /^TIMESTAMP_NSEC=(\d+)$/m.exec(text)?.[1];
  return stamp === undefined || usr.sec * NS + usr.nsec > BigInt(stamp);
}

const split = (ns: bigint) => ({ sec: ns / NS, nsec: ns % NS });

void test('TIMESTAMP_NSEC is /usr time, or the last nanosecond of SOURCE_DATE_EPOCH when /usr is newer (the time it is clamped to)', () => {
  const epoch = 1_700_000_000;
  assert.equal(updatedTimestamp(1_600_000_000_123_456_789n, epoch), 1_600_000_000_123_456_789n);
  assert.equal(updatedTimestamp(1_800_000_000_123_456_789n, epoch), 1_700_000_000_999_999_999n);
  assert.equal(updatedTimestamp(1_800_000_000_123_456_789n, undefined), 1_800_000_000_123_456_789n);
  assert.match(updatedFile(5n), /^# This file was created by systemd-update-done\..*\nTIMESTAMP_NSEC=5\n$/s);
});

void test('update-done: /etc/.updated and /var/.updated, so that systemd finds nothing to update on first boot', async () => {
  const r = stageRecorder();
  r.write('usr/lib/systemd/systemd-update-done', '');
  mkdirSync(join(r.ctx.root, 'etc'));
  mkdirSync(join(r.ctx.root, 'var'));
  // The build ran after SOURCE_DATE_EPOCH: /usr's time will be clamped to it in the image.
  const epoch = 1_700_000_000;
  utimesSync(join(r.ctx.root, 'usr'), 1_800_000_000.25, 1_800_000_000.25);
  r.ctx.facts.sourceDateEpoch = epoch;
  await updateDone.run(r.ctx, updateDone.options.parse({}));
  const usr = statSync(join(r.ctx.root, 'usr'), { bigint: true }).mtimeNs;
  for (const folder of ['etc', 'var']) {
    const file = join(r.ctx.root, folder, '.updated');
    const text = readFileSync(file, 'utf8');
    assert.match(text, new RegExp(`^TIMESTAMP_NSEC=${epoch}999999999$`, 'm'));
    const mtime = statSync(file, { bigint: true }).mtimeNs;
    assert.equal(mtime / NS, usr / NS, "the file's time is in /usr's second");
    // As built, and as the file systems stage leaves them (both clamped, nanoseconds kept or not).
    assert.equal(needsUpdate(split(usr), split(mtime), text), false);
    assert.equal(needsUpdate({ sec: BigInt(epoch), nsec: usr % NS }, { sec: BigInt(epoch), nsec: mtime % NS }, text), false);
    assert.equal(needsUpdate({ sec: BigInt(epoch), nsec: 0n }, { sec: BigInt(epoch), nsec: 0n }, text), false);
    assert.equal(needsUpdate({ sec: BigInt(epoch), nsec: usr % NS }, { sec: BigInt(epoch), nsec: 0n }, text), false);
    // A later update of /usr is still seen.
    assert.equal(needsUpdate({ sec: BigInt(epoch) + 1n, nsec: 0n }, { sec: BigInt(epoch), nsec: 0n }, text), true);
  }
});

void test('update-done: an image without systemd is left alone', async () => {
  const r = stageRecorder();
  mkdirSync(join(r.ctx.root, 'etc'));
  await updateDone.run(r.ctx, updateDone.options.parse({}));
  assert.throws(() => statSync(join(r.ctx.root, 'etc/.updated')));
  assert.match(r.logs.join('\n'), /no systemd-update-done/);
});
