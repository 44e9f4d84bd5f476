/**
 * Watches a VM's serial console for the moment a boot succeeds or fails. Pure: it only sees text,
 * so it can be driven by QEMU's stdout or by a test.
 */

export type ConsoleResult = 'login' | 'panic' | 'emergency' | 'no-boot' | 'refused';

// A getty prompt is the last thing on its line ("kiln login: "), with the cursor waiting after it.
const LOGIN = /\blogin: ?$/;
// sshd/login print "Last login: <date>"; split across chunks its head would look like a prompt.
const NOT_LOGIN = /^\s*last login:/i;
// A kernel message printed right after the prompt ("kiln login: [   23.6] scsi host1: ahci") lands on
// the prompt's line, since getty's prompt has no newline: the prompt is what comes before it.
const KERNEL_TAIL = /\[\s*\d+\.\d+\].*$/;
const PANIC = /Kernel panic - not syncing/;
// systemd's emergency.target and sulogin's prompt (also used by rescue mode).
const EMERGENCY = /emergency mode|Give root password for maintenance/i;
// OVMF found nothing it could boot and fell back to its shell: waiting longer cannot help.
const NO_BOOT = /UEFI Interactive Shell|No bootable option or device was found/;
// Secure Boot: the firmware would not start the loader, whose signature its db does not trust.
const REFUSED = /failed to load Boot\w+ .*: (Access Denied|Security Violation)/;

// Complete CSI, OSC and two-byte escape sequences; firmware and getty both emit them freely.
// eslint-disable-next-line no-control-regex
const ESCAPE = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[@-Z\\-_]/g;
// An escape sequence cut off by the end of a chunk: held back until the rest arrives.
// eslint-disable-next-line no-control-regex
const INCOMPLETE_ESCAPE = /\x1b(?:\[[0-?]*[ -/]*|\][^\x07\x1b]*|[()])?$/;
// Everything but newline and backspace (which edits the line) is noise for matching.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x07\x0b-\x1f\x7f]/g;

// Bounds memory when a console never prints a newline (iPXE spinners, a stuck firmware).
const MAX_LINE = 4096;
const MAX_CARRY = 256;

export class ConsoleWatcher {
  private carry = '';
  private current = '';
  private found: ConsoleResult | undefined;
  private foundLine: string | undefined;

  /** The first verdict seen; later output is ignored once set. */
  get result(): ConsoleResult | undefined {
    return this.found;
  }

  /** The console line (escape codes removed) that produced `result`. */
  get line(): string | undefined {
    return this.foundLine;
  }

  /** Feeds raw console output; returns the verdict so far. */
  push(chunk: string): ConsoleResult | undefined {
    if (this.found !== undefined) return this.found;

    let text = this.carry + chunk;
    const cut = INCOMPLETE_ESCAPE.exec(text);
    this.carry = cut && cut[0].length <= MAX_CARRY ? cut[0] : '';
    if (cut) text = text.slice(0, cut.index);
    text = text.replace(ESCAPE, '').replace(CONTROL, '');

    const segments = text.split('\n');
    for (let i = 0; i < segments.length; i++) {
      if (i > 0) {
        // A line is complete: it can no longer grow into something else.
        if (this.check(this.current)) return this.found;
        this.current = '';
      }
      this.current = applyBackspaces(this.current + (segments[i] ?? ''));
      if (this.current.length > MAX_LINE) this.current = this.current.slice(-MAX_LINE);
    }
    // The unfinished line matters too: a login prompt never gets its newline until someone types.
    this.check(this.current);
    return this.found;
  }

  private check(line: string): boolean {
    let verdict: ConsoleResult | undefined;
    if (PANIC.test(line)) verdict = 'panic';
    else if (EMERGENCY.test(line)) verdict = 'emergency';
    else if (REFUSED.test(line)) verdict = 'refused';
    else if (NO_BOOT.test(line)) verdict = 'no-boot';
    else if (isPrompt(line) || isPrompt(line.replace(KERNEL_TAIL, ''))) verdict = 'login';
    if (verdict === undefined) return false;
    this.found = verdict;
    this.foundLine = line.trim();
    return true;
  }
}

function isPrompt(line: string): boolean {
  return LOGIN.test(line) && !NOT_LOGIN.test(line);
}

function applyBackspaces(line: string): string {
  if (!line.includes('\b')) return line;
  let out = '';
  for (const ch of line) out = ch === '\b' ? out.slice(0, -1) : out + ch;
  return out;
}
