/**
 * Extra apt repositories and version pins for the bootstrap stage. A source's key is embedded in
 * its deb822 file (Signed-By holds the armored key itself), so one file carries the repository
 * and its trust: apt reads it alike on the host during the bootstrap and inside the image later,
 * with no keyring path that would have to exist in both places.
 */
import { z } from 'zod';
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
export function pinCheckHook(pins: readonly string[]): string {
  return [
    'bad=0',
    `for p in ${pins.map(quote).join(' ')}; do`,
    'n="${p%%=*}"; v="${p#*=}"',
    `have=$(APT_CONFIG="$MMDEBSTRAP_APT_CONFIG" apt-cache madison "$n" | awk -F'|' '{gsub(/ /, "", $2); print $2}' | sort -uV | paste -sd' ')`,
    'case " $have " in *" $v "*) ;; *) echo "kiln-pin: $p is not available; versions: ${have:-none}" >&2; bad=1 ;; esac',
    'done',
    '[ "$bad" = 0 ]',
  ].join('\n');
}

/** The pins a failed bootstrap's output names as missing, as "name=version (the repositories have: ...)". */
export function pinProblems(output: string): string[] {
  return [...output.matchAll(PIN_LINE)].map((m) => `${m[1] ?? ''} (the repositories have: ${m[2] === 'none' ? 'no such package' : m[2] ?? ''})`);
}
