/**
 * The unified diff of two recipe versions, file by file, from Debian's `diff -ruN` over the two
 * unpacked bundles (diffutils is essential, so always there). Timestamps are dropped: the bundles'
 * files carry none that mean anything.
 */
import { mkdir } from 'node:fs/promises';
import { execa } from 'execa';

/** `from` and `to` are folders `a` and `b` inside `parent`, so paths read a/recipe.yaml, b/recipe.yaml. */
export async function diffFolders(parent: string): Promise<string> {
  await mkdir(`${parent}/a`, { recursive: true });
  await mkdir(`${parent}/b`, { recursive: true });
  const result = await execa('diff', ['-ruN', 'a', 'b'], { cwd: parent, reject: false, env: { LC_ALL: 'C', TZ: 'UTC' } });
  // 0: same, 1: different, 2: trouble.
  if (result.exitCode !== 0 && result.exitCode !== 1) throw new Error(`diff -ruN failed: ${result.stderr}`);
  return result.stdout
    .split('\n')
    .map((line) => line.replace(/^(---|\+\+\+) (.+?)\t.*$/, '$1 $2'))
    .join('\n')
    .concat(result.stdout ? '\n' : '');
}
