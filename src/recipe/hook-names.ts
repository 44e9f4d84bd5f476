/**
 * Which files may run as hooks. A folder of hooks collects editor leftovers (`10-net~`,
 * `10-net.orig`, `.10-net.swp`) and dpkg's (`.dpkg-old`, `.dpkg-dist`); running one would run an
 * old or half-edited copy of a script, so such names never run.
 */
const PLAIN = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const BACKUP = /(~|\.bak|\.orig|\.swp|\.dpkg-[A-Za-z0-9_.-]*)$/;

/** Why a file name must not run as a hook, or undefined when it may. */
export function hookNameProblem(name: string): string | undefined {
  if (BACKUP.test(name)) return 'is an editor or dpkg backup file name';
  if (!PLAIN.test(name)) return 'is not a plain name (letters, digits, ".", "_" and "-", starting with a letter or digit)';
  return undefined;
}

/** Plain lexical (byte) order, the same in every locale. */
export function lexical(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
