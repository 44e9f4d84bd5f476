/** `kiln doctor [--install]`: which host tools are missing, and apt-get to install them. */
import { spawnSync } from 'node:child_process';
import pc from 'picocolors';
import { canRun, enableBinfmt } from '../arch/binfmt.js';
import { ARCH_NAMES } from '../arch/table.js';
import { BuildError } from '../errors.js';
import { isPresent, TOOLS as HOST_TOOLS, type Tool } from '../host/tools.js';

/**
 * Secure Boot: sbsign signs systemd-boot and UKIs with a recipe's own key (secure_boot: { key,
 * cert }); kiln boot --secure-boot starts OVMF's secboot build. ukify is not a host tool: a UKI is
 * made by the image's own systemd-ukify, so its stub matches the image's systemd.
 */
const SECURE_BOOT_TOOLS: readonly Tool[] = [
  { name: 'sbsign', package: 'sbsigntool', for: 'build' },
  { name: 'sbverify', package: 'sbsigntool', for: 'build' },
  { name: 'OVMF Secure Boot', files: ['/usr/share/OVMF/OVMF_CODE_4M.secboot.fd', '/usr/share/OVMF/OVMF_CODE.secboot.fd', '/usr/share/edk2/ovmf/OVMF_CODE.secboot.fd'], package: 'ovmf', for: 'boot' },
  { name: 'OVMF SB key stores', files: ['/usr/share/OVMF/OVMF_VARS_4M.ms.fd', '/usr/share/OVMF/OVMF_VARS_4M.snakeoil.fd'], package: 'ovmf', for: 'boot' },
];
/** The developer's loop: the ansible key's stage, and kiln shell / kiln run (README: "Developer loop"). */
const DEVLOOP_TOOLS: readonly Tool[] = [
  { name: 'ansible-playbook', package: 'ansible-core', for: 'build' },
  { name: 'systemd-nspawn', package: 'systemd-container', for: 'boot' },
];
/** OSTree commits: the host's ostree writes the repositories (the image's own ostree boots them), gpg signs them. */
const OSTREE_TOOLS: readonly Tool[] = [
  { name: 'ostree', package: 'ostree', for: 'build' },
  { name: 'gpg', package: 'gpg', for: 'build' },
];
const TOOLS = [...HOST_TOOLS, ...SECURE_BOOT_TOOLS, ...DEVLOOP_TOOLS, ...OSTREE_TOOLS];

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
  out.write(`${pc.green('ok     ')} ${'ukify'.padEnd(20)} ${'(in the image)'.padEnd(16)} (kernel.uki installs systemd-ukify in the image; not needed on this host)\n`);
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
