/**
 * Reads ansible-playbook's log (ANSIBLE_LOG_PATH) for the first failure: which task, on which
 * host, and Ansible's own message, so a failed build says that instead of "exit status 2". Pure.
 */

export interface AnsibleFailure {
  /** "role : task name"; absent for errors before any task ran (a playbook that does not parse). */
  task?: string;
  host?: string;
  message: string;
}

const TASK = /^TASK \[(.+?)\]/;
// "fatal: [h]: FAILED! => {...}", and in a loop "failed: [h] (item=x) => {...}".
const FAILED = /^(?:fatal|failed): \[([^\]]+)\](?: \(item=.*?\))?:? (?:(?:FAILED|UNREACHABLE)! )?=> (.*)$/;
const ERROR = /^ERROR! (.*)$/;

/** The log's lines carry a prefix ("2025-01-01 10:00:00,000 p=12 u=root n=ansible | "): it is dropped. */
export function ansibleFailure(log: string): AnsibleFailure | undefined {
  const lines = log.split('\n').map((l) => l.replace(/^\d{4}-\d\d-\d\d [\d:,]+ p=\d+ u=\S+ n=\S+ \| /, ''));
  let task: string | undefined;
  for (const [i, line] of lines.entries()) {
    const t = TASK.exec(line);
    if (t) task = t[1];
    const f = FAILED.exec(line);
    if (f) return { ...(task ? { task } : {}), host: f[1] ?? '', message: messageOf(f[2] ?? '') };
    const e = ERROR.exec(line);
    // Ansible's own errors (YAML, a missing role) go on over a few lines naming the file and line.
    if (e) return { message: [e[1] ?? '', ...lines.slice(i + 1, i + 8).filter((l) => l.trim() && !/^\d{4}-/.test(l))].join(' ').replace(/\s+/g, ' ').trim() };
  }
  return undefined;
}

/** The module's result is JSON: its msg, or the stderr of the command it ran. */
function messageOf(result: string): string {
  try {
    const json = JSON.parse(result) as { msg?: unknown; stderr?: unknown; module_stderr?: unknown };
    const parts = [json.msg, json.stderr, json.module_stderr].filter((p): p is string => typeof p === 'string' && p.trim() !== '');
    return parts.length ? parts.join(': ').trim() : result;
  } catch {
    return result;
  }
}

/** The one-line form for BuildError: `task "x : y" failed on host h: message`. */
export function describeFailure(f: AnsibleFailure): string {
  if (!f.task) return `ansible-playbook failed: ${f.message}`;
  return `task "${f.task}" failed on host ${f.host ?? '?'}: ${f.message}`;
}
