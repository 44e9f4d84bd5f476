/**
 * Finding the init process of a running container (systemd-nspawn --boot) from the host: what
 * `kiln apply` enters with nsenter, and what `kiln run --check` asks for failed units.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/**
 * The init processes of running nspawn containers whose nspawn command line (or parent) matches:
 * the child of a `systemd-nspawn` that is PID 1 of a pid namespace of its own.
 */
export function containerInits(match: (nspawnArgv: string[], nspawnParent: number) => boolean): number[] {
  const processes = listProcesses();
  const nspawns = processes.filter((p) => /(^|\/)systemd-nspawn$/.test(p.argv[0] ?? '') && match(p.argv, p.ppid));
  return nspawns.flatMap((n) => processes.filter((p) => p.ppid === n.pid && isNamespaceInit(p.pid)).map((p) => p.pid));
}

/** The units systemd in the container counts as failed (systemctl --failed), by name. */
export function failedUnits(init: number): string[] {
  try {
    const text = execFileSync('nsenter', ['--target', String(init), '--mount', '--pid', '--root', '--', 'systemctl', '--failed', '--plain', '--no-legend', '--no-pager'], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'ignore'] });
    return parseFailedUnits(text);
  } catch {
    return [];
  }
}

/** `systemctl --failed --plain --no-legend`: the unit is the first word of each line. */
export function parseFailedUnits(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[0] ?? '')
    .filter((unit) => /^[\w@.:\\-]+\.[a-z]+$/.test(unit));
}

interface ProcessInfo {
  pid: number;
  ppid: number;
  argv: string[];
}

function listProcesses(): ProcessInfo[] {
  const found: ProcessInfo[] = [];
  for (const name of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // The command name in parentheses may hold spaces and parentheses: fields start after the last ")".
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').filter(Boolean);
      found.push({ pid: Number(name), ppid, argv });
    } catch {
      // Gone while we looked.
    }
  }
  return found;
}

/** PID 1 of its own pid namespace (the last NSpid entry is the pid inside the innermost namespace). */
function isNamespaceInit(pid: number): boolean {
  try {
    const nspid = /^NSpid:\s+(.+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]?.trim().split(/\s+/);
    return nspid !== undefined && nspid.length > 1 && nspid.at(-1) === '1';
  } catch {
    return false;
  }
}
