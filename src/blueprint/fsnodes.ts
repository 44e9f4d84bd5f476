/**
 * `[[customizations.files]]` and `[[customizations.directories]]` become recipe files (inline
 * content) and directories, with composer's path policies (osbuild images, pkg/policies): what the
 * system owns (/etc/passwd, /usr, API file systems) cannot be written by a blueprint.
 */
import type { KeyPath } from '../recipe/source.js';
import type { Table, Translation } from './context.js';
import { pathKey } from './toml-positions.js';

/** Paths (and everything below them) a blueprint may not create; /usr/local is allowed under /usr. */
const DENIED_BOTH = ['/bin', '/boot', '/dev', '/lib', '/lib64', '/lost+found', '/proc', '/run', '/sbin', '/sys', '/sysroot', '/tmp', '/usr', '/var/run', '/var/tmp', '/efi'];
const DENIED_FILES = [...DENIED_BOTH, '/etc/fstab', '/etc/group', '/etc/passwd', '/etc/shadow'];
const MODE = /^0?[0-7]{3}$/;

export function pathProblem(path: string, kind: 'file' | 'directory'): string | undefined {
  if (!path.startsWith('/')) return 'is not an absolute path';
  if (path === '/' || path.endsWith('/') || path.includes('//') || path.split('/').some((p) => p === '.' || p === '..')) return 'is not a canonical path (no "//", ".", ".." or trailing "/")';
  if (path === '/usr/local' || path.startsWith('/usr/local/')) return undefined;
  const denied = (kind === 'file' ? DENIED_FILES : DENIED_BOTH).find((d) => path === d || path.startsWith(`${d}/`));
  if (denied === undefined) return undefined;
  if (denied.startsWith('/etc/')) return `cannot be written by a blueprint: ${denied} is made from the users and disk the blueprint describes`;
  return `cannot be written by a blueprint: ${denied} belongs to the system (blueprints may write below /etc, /usr/local, /var, /opt, /srv, /home, /root)`;
}

export function translateFsNodes(t: Translation, c: Table): void {
  const seen = new Map<string, 'file' | 'directory'>();
  const dirsPath = ['customizations', 'directories'];
  for (const [d, i] of t.tables(dirsPath, c.directories, ['path', 'mode', 'user', 'group', 'ensure_parents'])) {
    const from = [...dirsPath, i];
    const path = checkedPath(t, from, d, 'directory', seen);
    const mode = modeOf(t, from, d);
    const owner = ownerOf(t, from, d);
    const parents = t.bool([...from, 'ensure_parents'], d.ensure_parents);
    if (path === undefined || mode === false || owner === false) continue;
    const note = parents === false ? 'kiln creates missing parent folders (root-owned, 0755) even without ensure_parents' : undefined;
    const to = t.push(['directories'], { path, ...(mode ? { mode } : {}), ...(owner ? { owner } : {}) }, from, note);
    originsOf(t, to, from, { path: 'path', mode: 'mode', owner: 'user' });
  }
  const filesPath = ['customizations', 'files'];
  for (const [f, i] of t.tables(filesPath, c.files, ['path', 'mode', 'user', 'group', 'data', 'ref', 'uri'])) {
    const from = [...filesPath, i];
    const path = checkedPath(t, from, f, 'file', seen);
    const mode = modeOf(t, from, f);
    const owner = ownerOf(t, from, f);
    const data = t.str([...from, 'data'], f.data);
    for (const key of ['ref', 'uri']) {
      if (f[key] !== undefined) t.refuse([...from, key], 'reads a file of the machine that builds the image: put its text in data, or copy the file next to the recipe and name it in files: src (kiln import writes the recipe)');
    }
    if (path === undefined || mode === false || owner === false) continue;
    const to = t.push(['files'], { dst: path, content: data ?? '', ...(mode ? { mode } : {}), ...(owner ? { owner } : {}) }, from, data === undefined ? 'no data: an empty file' : undefined);
    originsOf(t, to, from, { dst: 'path', content: 'data', mode: 'mode', owner: 'user' });
  }
  // A file whose path is a folder of another entry cannot be both.
  for (const [path, kind] of seen) {
    const parent = [...seen.keys()].find((p) => p !== path && path.startsWith(`${p}/`) && seen.get(p) === 'file');
    if (parent !== undefined) t.refuse(['customizations', kind === 'file' ? 'files' : 'directories'], `"${parent}" is a file, so "${path}" cannot be below it`);
  }
}

/** Each recipe key's blueprint key, so a later message about one points at its line. */
function originsOf(t: Translation, to: KeyPath, from: KeyPath, keys: Record<string, string>): void {
  for (const [key, bpKey] of Object.entries(keys)) t.origins.set(pathKey([...to, key]), [...from, bpKey]);
}

function checkedPath(t: Translation, from: KeyPath, node: Table, kind: 'file' | 'directory', seen: Map<string, 'file' | 'directory'>): string | undefined {
  const path = t.required(from, node, 'path');
  if (path === undefined) return undefined;
  const problem = pathProblem(path, kind);
  if (problem) {
    t.refuse([...from, 'path'], `"${path}" ${problem}`);
    return undefined;
  }
  if (seen.has(path)) {
    t.refuse([...from, 'path'], `"${path}" is given twice (in files or directories)`);
    return undefined;
  }
  seen.set(path, kind);
  return path;
}

/** "0644" (4 digits, as recipes write modes); undefined when absent, false when refused. */
function modeOf(t: Translation, from: KeyPath, node: Table): string | undefined | false {
  if (node.mode === undefined) return undefined;
  const mode = t.str([...from, 'mode'], node.mode);
  if (mode === undefined) return false;
  if (!MODE.test(mode)) {
    t.refuse([...from, 'mode'], `"${mode}" is not a file mode (an octal number of 3 digits, optionally with a leading 0, e.g. "0644")`);
    return false;
  }
  return mode.padStart(4, '0');
}

/** "user:group" by name or number; root's when only one is given, as composer does. */
function ownerOf(t: Translation, from: KeyPath, node: Table): string | undefined | false {
  const part = (key: string): string | undefined | false => {
    const v = node[key];
    if (v === undefined) return undefined;
    if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return String(v);
    if (typeof v === 'string' && /^[a-z_][a-z0-9_-]*\$?$/.test(v)) return v;
    t.refuse([...from, key], `${JSON.stringify(v)} is not a ${key} (a name such as "root", or a number such as 1000)`);
    return false;
  };
  const user = part('user');
  const group = part('group');
  if (user === false || group === false) return false;
  if (user === undefined && group === undefined) return undefined;
  return `${user ?? 'root'}:${group ?? 'root'}`;
}
