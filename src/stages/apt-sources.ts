/**
 * Extra apt repositories and version pins for the bootstrap stage. A source's key is embedded in
 * its deb822 file (Signed-By holds the armored key itself), so one file carries the repository
 * and its trust: apt reads it alike on the host during the bootstrap and inside the image later,
 * with no keyring path that would have to exist in both places.
 */
import { z } from 'zod';
import { BuildError } from '../errors.js';
import { quote } from '../host/shell.js';

export const AptSource = z.strictObject({
  name: z.string(),
  uris: z.array(z.string()),
  suites: z.array(z.string()),
  components: z.array(z.string()),
  /** The armored public key, canonical (kiln re-armors it), so the stage id follows the key. */
  key: z.string(),
  fingerprint: z.string(),
});

export function sourcesFile(s: z.output<typeof AptSource>): string {
  // A multi-line deb822 field: continuation lines start with a space, an empty line is " .".
  const key = s.key.trimEnd().split('\n').map((line) => ` ${line || '.'}`);
  return [
    `# Written by kiln from the recipe's apt.sources (key ${s.fingerprint}).`,
    'Types: deb',
    `URIs: ${s.uris.join(' ')}`,
    `Suites: ${s.suites.join(' ')}`,
    ...(s.components.length ? [`Components: ${s.components.join(' ')}`] : []),
    'Signed-By:',
    ...key,
    '',
  ].join('\n');
}

const PIN_LINE = /^kiln-pin: (\S+) is not available; versions: (.*)$/gm;

/**
 * A shell command (an mmdebstrap setup hook, with mmdebstrap's apt configuration) that asks
 * apt-cache for the versions of each pinned package, and fails naming those a pin misses. apt's
 * own words ("Version '9' for 'x' was not found") never say which versions there are.
 */
export function pinCheckHook(pins: readonly string[], aptConfig: string): string {
  return [
    'bad=0',
    `for p in ${pins.map(quote).join(' ')}; do`,
    'n="${p%%=*}"; v="${p#*=}"',
    `have=$(APT_CONFIG=${aptConfig} apt-cache madison "$n" | awk -F'|' '{gsub(/ /, "", $2); print $2}' | sort -uV | paste -sd' ')`,
    'case " $have " in *" $v "*) ;; *) echo "kiln-pin: $p is not available; versions: ${have:-none}" >&2; bad=1 ;; esac',
    'done',
    '[ "$bad" = 0 ]',
  ].join('\n');
}

/** The pins a failed bootstrap's output names as missing, as "name=version (the repositories have: ...)". */
export function pinProblems(output: string): string[] {
  return [...output.matchAll(PIN_LINE)].map((m) => `${m[1] ?? ''} (the repositories have: ${m[2] === 'none' ? 'no such package' : m[2] ?? ''})`);
}

/** apt's words for "no such package", turned into a message that names the package. */
export function explainApt(err: unknown, release: string): unknown {
  if (!(err instanceof BuildError)) return err;
  const text = err.tail.join('\n');
  const pins = pinProblems(text);
  if (pins.length) {
    return new BuildError(`pinned versions are not in the repositories: ${pins.join('; ')}`, err.stage, err.command, err.tail);
  }
  const locked = [...text.matchAll(/Version '([^']+)' for '([^']+)' was not found/g)].map((m) => `${m[2]} ${m[1]}`);
  if (locked.length) {
    return new BuildError(
      `locked versions are no longer on the mirror: ${[...new Set(locked)].join(', ')} (point distro.mirror at a snapshot, e.g. https://snapshot.debian.org/archive/debian/20261101T000000Z/, or build without --lock)`,
      err.stage,
      err.command,
      err.tail,
    );
  }
  const expired = /Release file for (\S+) is expired \(invalid since ([^)]+)\)/.exec(text);
  if (expired) {
    return new BuildError(
      `the mirror's ${release} is stale: apt refuses its Release file (${expired[1]}), whose Valid-Until passed ${expired[2]} ago; use an up-to-date mirror (distro.mirror) or another release`,
      err.stage,
      err.command,
      err.tail,
    );
  }
  const missing = [
    ...text.matchAll(/Unable to locate package (\S+)/g),
    ...text.matchAll(/Package '?([^' ]+)'? has no installation candidate/g),
    ...text.matchAll(/Couldn't find any package by (?:glob|regex) '([^']+)'/g),
  ].map((m) => m[1]);
  if (!missing.length) return err;
  const names = [...new Set(missing)].join(', ');
  return new BuildError(`package not found in ${release}: ${names} (check the name with: apt-cache policy ${missing[0]})`, err.stage, err.command, err.tail);
}
