/**
 * systemd-nspawn command lines for `kiln shell` and `kiln run`. Pure: the arguments are built here
 * and tested without a container; the callers start them (src/devloop/container.ts).
 *
 * `--register=no --keep-unit`: hosts without systemd as PID 1 (containers, CI runners, this build
 * machine) have no machined to register with and no unit to move into, and nspawn fails without
 * them there; on a systemd host they only mean "do not show up in machinectl".
 */

export interface Bind {
  host: string;
  image: string;
}

export interface NspawnSpec {
  /** The image root to run: a mounted stack of the store's layers (never a cached layer itself). */
  directory: string;
  /** Shown as the container's hostname and in nspawn's messages. */
  machine: string;
  /** Boot the image's own init (kiln run) rather than run one command. */
  boot?: boolean;
  /** Writes go to a tmpfs over the root and vanish with the container (kiln run). */
  volatile?: boolean;
  readOnly?: boolean;
  binds?: readonly Bind[];
  /**
   * interactive: a terminal is attached; pipe: stdin/stdout are the command's own (scripts, tests);
   * read-only: a booting container's console is shown, nothing is typed into it.
   */
  console: 'interactive' | 'pipe' | 'read-only';
  /** The command and its arguments; none: a root shell. */
  command?: readonly string[];
  env?: Readonly<Record<string, string>>;
}

export function nspawnArgs(spec: NspawnSpec): string[] {
  const args = ['--quiet', '--register=no', '--keep-unit', `--directory=${spec.directory}`, `--machine=${spec.machine}`, `--console=${spec.console}`];
  if (spec.readOnly) args.push('--read-only');
  if (spec.volatile) args.push('--volatile=overlay');
  for (const b of spec.binds ?? []) args.push(`--bind=${escapeColons(b.host)}:${escapeColons(b.image)}`);
  for (const [name, value] of Object.entries(spec.env ?? {})) args.push(`--setenv=${name}=${value}`);
  if (spec.boot) return [...args, '--boot'];
  // Without a command nspawn starts a root shell; `--` keeps the command's own options its own.
  return spec.command?.length ? [...args, '--', ...spec.command] : args;
}

/** nspawn splits --bind at colons; a colon in a path is written `\:`. */
function escapeColons(path: string): string {
  return path.replace(/:/g, '\\:');
}

/**
 * A machine name nspawn accepts (a valid hostname label, at most 64 characters): kiln's recipe
 * names allow "." and "_", which a hostname label does not.
 */
export function machineName(name: string): string {
  const label = name.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '');
  return (label || 'kiln').slice(0, 60);
}

/** `HOST:IMAGE` from `--bind`: both absolute once resolved; a relative host path is the caller's to resolve. */
export function parseBind(text: string): Bind | { error: string } {
  const at = text.indexOf(':');
  if (at < 1 || at === text.length - 1) return { error: `--bind ${text}: expected HOST:IMAGE (e.g. --bind ./src:/src)` };
  const image = text.slice(at + 1);
  if (!image.startsWith('/') || image.split('/').includes('..')) return { error: `--bind ${text}: ${image} must be an absolute path in the image without ".."` };
  return { host: text.slice(0, at), image };
}
