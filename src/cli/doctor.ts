/** `kiln doctor [--install]`: which host tools are missing, and apt-get to install them. */
import { spawnSync } from 'node:child_process';
import pc from 'picocolors';
import { BuildError } from '../errors.js';
import { isPresent, TOOLS } from '../engine/tools.js';

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
  if (missing.length) {
    const packages = [...new Set(missing.map((t) => t.package))].sort().join(' ');
    out.write(`\n${missing.length} missing; install with: kiln doctor --install (or apt-get install ${packages})\n`);
    return 1;
  }
  out.write('all host tools are present\n');
  return 0;
}
