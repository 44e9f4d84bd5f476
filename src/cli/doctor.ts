/** `kiln doctor [--install]`: which host tools are missing, and apt-get to install them. */
import { spawnSync } from 'node:child_process';
import pc from 'picocolors';
import { canRun, enableBinfmt } from '../arch/binfmt.js';
import { ARCH_NAMES } from '../arch/table.js';
import { BuildError } from '../errors.js';
import { isPresent, TOOLS } from '../host/tools.js';

export function doctor(install: boolean, out: NodeJS.WritableStream = process.stdout): number {
  let missing = TOOLS.filter((t) => !isPresent(t));
  for (const tool of TOOLS) {
    const ok = !missing.includes(tool);
    out.write(`${ok ? pc.green('ok     ') : pc.red('missing')} ${tool.name.padEnd(20)} ${tool.package.padEnd(16)} (${tool.for})\n`);
  }
  if (missing.length && install) {
    const packages = [...new Set(missing.map((t) => t.package))].sort();
    out.write(`installing: ${packages.join(' ')}\n`);
    for (const args of [['update'], ['install', '-y', '--no-install-recommends', ...packages]]) {
      const result = spawnSync('apt-get', args, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
      if (result.status !== 0) throw new BuildError(`apt-get ${args.join(' ')} failed (status ${result.status ?? result.signal ?? '?'}); are you root?`);
    }
    missing = TOOLS.filter((t) => !isPresent(t));
  }
  const foreign = foreignArches(install, out);
  if (missing.length || foreign) {
    const packages = [...new Set(missing.map((t) => t.package))].sort().join(' ');
    const what = [missing.length ? `${missing.length} missing` : '', foreign ? `${foreign} architectures cannot run` : ''].filter(Boolean).join(', ');
    out.write(`\n${what}; fix with: kiln doctor --install${packages ? ` (or apt-get install ${packages})` : ''}\n`);
    return 1;
  }
  out.write('all host tools are present and every architecture runs\n');
  return 0;
}

/**
 * Whether this host runs each architecture's programs, proven by running a tiny one; with
 * --install, binfmt_misc is mounted and qemu-user registered first. Returns how many cannot run.
 */
function foreignArches(install: boolean, out: NodeJS.WritableStream): number {
  let failing = 0;
  for (const arch of ARCH_NAMES) {
    let note = '';
    if (install && !canRun(arch)) {
      try {
        note = enableBinfmt(arch).join(', ');
      } catch (err) {
        note = err instanceof Error ? err.message : String(err);
      }
    }
    const ok = canRun(arch);
    if (!ok) failing++;
    out.write(`${ok ? pc.green('ok     ') : pc.red('missing')} ${`runs ${arch} programs`.padEnd(20)} ${'binfmt_misc'.padEnd(16)} (foreign)${note ? ` ${note}` : ''}\n`);
  }
  return failing;
}
