/**
 * overlayfs mounts: how a stage sees the image root without any copying. The root is the stack of
 * the earlier stages' layers (read-only) with a fresh upper layer that catches this stage's changes.
 * Mounts live in the build's private mount namespace (isolate.ts) and vanish with it.
 */
import { readFileSync } from 'node:fs';
import type { Exec } from './exec.js';

/**
 * index/redirect_dir/metacopy off: every upper layer must stay a plain, self-contained tree of
 * files and whiteouts, usable as a lower layer by any later mount.
 */
const OPTIONS = 'index=off,redirect_dir=off,metacopy=off';

export interface OverlaySpec {
  /** Layers from the bottom (first stage) up, relative to `cwd` so the option string stays short. */
  lowers: string[];
  cwd: string;
  /** Writable layer and overlayfs' work folder (same file system); read-only mount without them. */
  upper?: { dir: string; work: string };
  target: string;
}

export async function mountOverlay(exec: Exec, spec: OverlaySpec): Promise<void> {
  const lower = `lowerdir=${[...spec.lowers].reverse().join(':')}`;
  const options = spec.upper ? `${lower},upperdir=${spec.upper.dir},workdir=${spec.upper.work},${OPTIONS}` : `${lower},${OPTIONS},ro`;
  await exec('mount', ['-t', 'overlay', 'overlay', '-o', options, spec.target], { cwd: spec.cwd });
}

export async function unmount(exec: Exec, target: string): Promise<void> {
  await exec('umount', [target]);
}

/** Mount points at or below `dir`, deepest first (from /proc/self/mountinfo). */
export function mountsUnder(dir: string): string[] {
  const prefix = dir.replace(/\/+$/, '');
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .map((path) => path.replace(/\\(\d{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8))))
    .filter((path) => path === prefix || path.startsWith(`${prefix}/`))
    .sort((a, b) => b.length - a.length);
}

/** Last resort before a workspace is removed: nothing may stay mounted inside it. */
export async function unmountAll(exec: Exec, dir: string): Promise<void> {
  for (const path of mountsUnder(dir)) await exec('umount', ['--lazy', path]).catch(() => undefined);
}
