import { existsSync } from 'node:fs';
import { stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { defineStage, sourceDateEpoch } from './define.js';

/**
 * The value systemd compares /usr's modification time with (TIMESTAMP_NSEC, nanoseconds): never
 * earlier than /usr's time in the finished image. The filesystems stage clamps times newer than
 * SOURCE_DATE_EPOCH to it, so /usr ends at or before min(its time now, the epoch's last nanosecond);
 * that bound is also the same in every rebuild, wherever the build runs after the epoch.
 */
export function updatedTimestamp(usrMtimeNs: bigint, epoch: number | undefined): bigint {
  if (epoch === undefined) return usrMtimeNs;
  const ceiling = BigInt(epoch) * 1_000_000_000n + 999_999_999n;
  return usrMtimeNs < ceiling ? usrMtimeNs : ceiling;
}

/** The file systemd-update-done.service writes, as it writes it. */
export function updatedFile(timestampNs: bigint): string {
  return `# This file was created by systemd-update-done. The timestamp below is the
# modification time of /usr/ for which the most recent updates of /etc/ and
# /var/ have been applied. See man:systemd-update-done.service(8) for details.
TIMESTAMP_NSEC=${timestampNs}
`;
}

/**
 * Every package's maintainer scripts have already done, at build time, what systemd's first-boot
 * update units do again when /etc/.updated and /var/.updated are missing (ConditionNeedsUpdate):
 * ldconfig, the journal's message catalog, the hardware database, sysusers. Writing the two files
 * (as systemd-update-done would, and as mkosi does) spares every machine that work on its first
 * boot: about 7 s of a 34 s userspace start under QEMU's emulation. A later OS update that
 * changes /usr's time still runs them. Runs after every other tree stage.
 */
export const updateDone = defineStage({
  name: 'update-done',
  version: 1,
  kind: 'tree',
  summary: "Writes /etc/.updated and /var/.updated as systemd-update-done would, stamped with /usr's time: the image's first boot skips ldconfig, the catalog and hwdb updates its packages already made.",
  options: z.strictObject({}),
  async run(ctx) {
    if (!existsSync(join(ctx.root, 'usr/lib/systemd/systemd-update-done'))) return void ctx.log('no systemd-update-done in the image: nothing to mark');
    const usr = await stat(join(ctx.root, 'usr'), { bigint: true });
    const stamp = updatedTimestamp(usr.mtimeNs, sourceDateEpoch(ctx));
    for (const folder of ['etc', 'var']) {
      const file = join(ctx.root, folder, '.updated');
      await writeFile(file, updatedFile(stamp), { mode: 0o644 });
      // The file's time in /usr's second, near its end: systemd compares the seconds first, then
      // the nanoseconds, then TIMESTAMP_NSEC. Clamping to SOURCE_DATE_EPOCH treats both alike.
      const time = Number(usr.mtimeNs / 1_000_000_000n) + 0.9999;
      await utimes(file, time, time);
    }
    ctx.log(`/etc/.updated and /var/.updated: TIMESTAMP_NSEC=${stamp}`);
  },
});
