/**
 * A small model of the GRUB script commands kiln's boot counting uses (if/elif/fi on string
 * equality or a file's existence, set, load_env, save_env), run against an environment block: what
 * one boot's pass through a menu leaves in its variables and in the block. Unit tests only.
 */
import assert from 'node:assert/strict';

export function grubPass(script: string, block: Record<string, string>): { vars: Record<string, string>; block: Record<string, string> } {
  const vars: Record<string, string> = {};
  const saved = { ...block };
  // One frame per if: whether a branch was taken already, and whether the current one runs.
  const frames: { taken: boolean; running: boolean }[] = [];
  const running = () => frames.every((f) => f.running);
  const test = (cond: string) => {
    const m = /^\[ "\$\{(\w+)\}" = "(\w*)" \]$/.exec(cond.trim()) ?? /^\[ -f (\S+) \]$/.exec(cond.trim());
    assert.ok(m, `a condition the model does not know: ${cond}`);
    return m[2] === undefined ? true : (vars[m[1] ?? ''] ?? '') === m[2];
  };
  for (const raw of script.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    let m;
    if ((m = /^if (.*); then$/.exec(line))) {
      const outer = running();
      const hit = outer && test(m[1] ?? '');
      frames.push({ taken: hit, running: hit });
    } else if ((m = /^elif (.*); then$/.exec(line))) {
      const frame = frames.at(-1);
      assert.ok(frame);
      const outer = frames.slice(0, -1).every((f) => f.running);
      const hit = outer && !frame.taken && test(m[1] ?? '');
      frame.running = hit;
      frame.taken ||= hit;
    } else if (line === 'fi') frames.pop();
    else if (!running()) continue;
    else if ((m = /^set (\w+)=(\S*)$/.exec(line))) vars[m[1] ?? ''] = m[2] ?? '';
    else if ((m = /^load_env -f \S+ (.*)$/.exec(line))) for (const name of (m[1] ?? '').split(' ')) vars[name] = saved[name] ?? '';
    else if ((m = /^save_env -f \S+ (.*)$/.exec(line))) for (const name of (m[1] ?? '').split(' ')) saved[name] = vars[name] ?? '';
    else assert.fail(`a command the model does not know: ${line}`);
  }
  assert.equal(frames.length, 0, 'every if has its fi');
  return { vars, block: saved };
}
