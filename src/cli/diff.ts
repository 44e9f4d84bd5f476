/** `kiln diff A B`: what differs between two builds (build folders, raw or qcow2 images, or tars), or two OSTree commits. */
import { compareSnapshots, formatDiff, type Diff } from '../diff/compare.js';
import { ostreeSnapshot } from '../diff/ostree-snapshot.js';
import { snapshotOf } from '../diff/snapshot.js';

/** `ostreeRepo`: A and B are commits (checksums, refs, REF^) of that archive repository. */
export async function diffCommand(a: string, b: string, json: boolean, ostreeRepo?: string): Promise<{ text: string; diff: Diff }> {
  const snapshot = (target: string) => (ostreeRepo === undefined ? snapshotOf(target) : ostreeSnapshot(ostreeRepo, target));
  const [sa, sb] = [await snapshot(a), await snapshot(b)];
  const diff = compareSnapshots(sa, sb);
  return { diff, text: json ? `${JSON.stringify({ a: sa.source, b: sb.source, ...diff }, null, 2)}\n` : formatDiff(diff, [a, b]) };
}
