/** What the hook stages share: the options shape and how a script is started. */
import { readFileSync } from 'node:fs';
import { z } from 'zod';

export const HookOptions = z.strictObject({
  scripts: z.array(z.strictObject({ path: z.string(), sha256: z.string() })),
  /** Documented variables every hook gets (KILN_NAME, KILN_ARCH, ...). */
  env: z.record(z.string(), z.string()),
});

/**
 * The interpreter from the script's #! line (so a script needs no executable bit), or /bin/sh.
 * `script` is read on the host; `path` is how the script is named where it runs.
 */
export function command(script: string, path: string): [string, string[]] {
  const first = readFileSync(script, 'utf8').split('\n', 1)[0] ?? '';
  if (!first.startsWith('#!')) return ['/bin/sh', [path]];
  const [interpreter = '/bin/sh', ...args] = first.slice(2).trim().split(/\s+/);
  return [interpreter, [...args, path]];
}
