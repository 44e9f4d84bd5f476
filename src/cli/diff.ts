/** `kiln diff A B`: what differs between two builds (build folders, raw or qcow2 images, or tars). */
import { compareSnapshots, formatDiff, type Diff } from '../diff/compare.js';
import { snapshotOf } from '../diff/snapshot.js';

export async function diffCommand(a: string, b: string, json: boolean): Promise<{ text: string; diff: Diff }> {
  const [sa, sb] = [await snapshotOf(a), await snapshotOf(b)];
  const diff = compareSnapshots(sa, sb);
  return { diff, text: json ? `${JSON.stringify({ a: sa.source, b: sb.source, ...diff }, null, 2)}\n` : formatDiff(diff, [a, b]) };
}
