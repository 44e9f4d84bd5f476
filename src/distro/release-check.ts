/** Whether the mirror's answer fits the release a recipe names: the message for distro.release, or none. Pure. */
import { codenameOf } from './releases.js';
import type { MirrorAnswer } from './mirror-release.js';

export function releaseProblem(release: string, mirror: string, answer: MirrorAnswer): string | undefined {
  if ('unreachable' in answer) return undefined;
  if (!answer.found) {
    const has = answer.has.length ? `; it has: ${answer.has.join(', ')}` : '';
    return `the mirror ${mirror} has no release "${release}" (${answer.url}: ${answer.status})${has}; set distro.release to one it has, or distro.mirror to a mirror with ${release}`;
  }
  const expected = codenameOf(release);
  // An alias moves when Debian releases: kiln's table must describe what the mirror now serves.
  if (expected !== undefined && answer.codename !== '' && answer.codename !== expected) {
    return `"${release}" is ${answer.codename} on the mirror ${mirror}, but kiln's release table has it as ${expected}; name the codename you want (distro.release: ${codenameOf(answer.codename) ?? expected})`;
  }
  return undefined;
}
