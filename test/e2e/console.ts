/**
 * Drives a booted image's serial console like a user at a terminal: log in, run a command, read its
 * output and exit status. QEMU is started with the same arguments and firmware as `kiln boot`.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findOvmf, findSecureBootOvmf, isIso, qemuArgs, type FirmwareVars } from '../../src/vm/qemu.js';
import { EMULATION_FLAKES, plain, run } from './kiln.js';

// eslint-disable-next-line no-control-regex
const ESCAPES = /\x1b\[[0-?]*[ -/]*[@-~]/g;
// The guest is gone for good: waiting for anything else only burns the test's budget.
const GUEST_FAILED = /Kernel panic - not syncing|Oops: |emergency mode|Give root password for maintenance/;
/** The timestamp a kernel message starts with on the console. */
const KERNEL_TIMESTAMP = String.raw`\[ *\d+\.\d+\] `;
/** A line the kernel printed on the console. */
const KERNEL_MESSAGE = new RegExp(`^${KERNEL_TIMESTAMP}`);
/** The shell's prompt ends its line, or a kernel message landed right after it (seen on a live ISO). */
const SHELL_PROMPT = new RegExp(`[$#] (?:$|${KERNEL_TIMESTAMP})`, 'm');

/** A VM run cut short by software emulation on a busy host, not by the image (EMULATION_FLAKES, a frozen guest). */
export class EmulationFlake extends Error {}

/**
 * Starts a VM with `start`, runs `body` against it and stops it. A run cut short by an emulation
 * flake starts over once from `start` (which makes any blank disk anew), saying so in the test log.
 */
export async function withConsole<T>(start: () => Console, body: (vm: Console) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const vm = start();
    try {
      return await body(vm);
    } catch (error) {
      if (!(error instanceof EmulationFlake) || attempt > 1) throw error;
      process.stderr.write(`${error.message.split('\n')[0]}; starting the VM once more\n`);
    } finally {
      await vm.stop();
    }
  }
}

export class Console {
  private text = '';
  private seen = 0;
  private marks = 0;
  private readonly started = Date.now();

  private child: ChildProcessWithoutNullStreams;
  private stopping = false;
  /** QEMU has exited and is not started again. */
  private ended = false;
  /** Where the output of the running QEMU starts: a restart begins a new one. */
  private since = 0;

  /**
   * `restartOnReset`: QEMU runs with -no-reboot, and a guest that resets (reboots) is started
   * again in a new QEMU on the same disk and firmware variables, as a power cycle. A reset inside
   * one QEMU under TCG sometimes never comes back (the console goes silent after "reboot: machine
   * restart"), which cost a whole device session and a five-minute wait.
   */
  private constructor(
    private readonly args: string[],
    private readonly tmp: string,
    readonly logFile: string,
    private readonly restartOnReset: boolean,
  ) {
    this.child = this.spawn();
  }

  private spawn(): ChildProcessWithoutNullStreams {
    const child = spawn('qemu-system-x86_64', this.args, { stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (this.text += chunk));
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => (this.text += chunk));
    // 'close', not 'exit': by then the console's last lines (the kernel's reboot message) are read.
    child.once('close', (code) => {
      // With -no-reboot QEMU exits 0 on a reset and on a power-off; only a power-off says so (the
      // kernel's own "Restarting system" may not reach the console before QEMU is gone).
      const poweredOff = /poweroff\.target|reboot: Power down/.test(this.text.slice(this.since));
      if (!this.restartOnReset || this.stopping || code !== 0 || poweredOff) {
        this.ended = true;
        return;
      }
      this.text += '\n[console: the guest rebooted; a new QEMU starts it, as a power cycle]\n';
      this.since = this.text.length;
      this.child = this.spawn();
    });
    return child;
  }

  /**
   * How a device is started for `withConsole`: its own disk `disk`, a fresh sparse copy of `image`
   * at each start (so a restart after an emulation flake begins from the built image again), which
   * keeps what the guest writes across reboots; `disks` are attached after it.
   */
  static device(image: string, disk: string, disks: string[] = []): () => Console {
    return () => {
      run('cp', ['--sparse=always', image, disk]);
      return Console.start(disk, undefined, disks, true);
    };
  }

  /**
   * An ISO goes on a CD drive; `disks` are raw files attached after it, written to. `persistent`:
   * the image keeps the guest's writes and a reboot restarts the guest (as a device does).
   */
  static start(image: string, secureBoot?: FirmwareVars, disks: string[] = [], persistent = false): Console {
    const tmp = mkdtempSync(join(tmpdir(), 'kiln-console-'));
    const firmware = secureBoot ? findSecureBootOvmf('amd64', secureBoot) : findOvmf('amd64');
    const varsCopy = join(tmp, 'vars.fd');
    copyFileSync(firmware.vars, varsCopy);
    const args = qemuArgs({ image, format: 'raw', media: isIso(image) ? 'cd' : 'disk', disks, ovmf: { code: firmware.code, varsCopy }, ...(secureBoot ? { secureBoot: true } : {}), memoryMiB: 1024, interactive: false, persistent });
    return new Console(persistent ? [...args, '-no-reboot'] : args, tmp, `${image}.console.log`, persistent);
  }

  /** Seconds since QEMU started. */
  get seconds(): number {
    return Math.round((Date.now() - this.started) / 100) / 10;
  }

  /** Everything the console printed so far, without colour codes. */
  get output(): string {
    return plain(this.text);
  }

  /**
   * Waits for `pattern` in output printed after the last match; returns that output. With
   * `silentSeconds`, a console that prints nothing for that long counts as an emulation flake.
   */
  async waitFor(pattern: RegExp, timeoutSeconds: number, silentSeconds?: number): Promise<string> {
    const until = Date.now() + timeoutSeconds * 1000;
    let length = this.text.length;
    let grew = Date.now();
    for (;;) {
      const rest = plain(this.text.slice(this.seen));
      const m = pattern.exec(rest);
      if (m) {
        // Advance past the match in the raw text (colour codes only make it longer).
        const at = this.text.indexOf(m[0], this.seen);
        this.seen = at >= 0 ? at + m[0].length : this.text.length;
        return rest.slice(0, m.index + m[0].length);
      }
      if (this.text.length !== length) [length, grew] = [this.text.length, Date.now()];
      const silent = silentSeconds !== undefined && Date.now() - grew > silentSeconds * 1000;
      const failed = GUEST_FAILED.exec(this.output);
      if (failed || silent || Date.now() > until || this.ended) {
        this.save();
        const why = failed
          ? `the guest failed ("${failed[0]}")`
          : silent
            ? `silent for ${silentSeconds} s, waiting for ${pattern}`
            : this.ended
              ? `QEMU exited (code ${this.child.exitCode ?? 'by a signal'}) while waiting for ${pattern}`
              : `no ${pattern} after ${timeoutSeconds} s`;
        const message = `console: ${why} (log: ${this.logFile}); last output:\n${rest.slice(-2000)}`;
        throw silent || EMULATION_FLAKES.some((p) => p.test(this.output)) ? new EmulationFlake(message) : new Error(message);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /** Waits for QEMU to exit on its own (the guest powered off); returns its exit code. */
  async exited(timeoutSeconds: number): Promise<number> {
    const until = Date.now() + timeoutSeconds * 1000;
    while (!this.ended) {
      if (Date.now() > until) {
        this.save();
        throw new Error(`console: QEMU still running after ${timeoutSeconds} s (log: ${this.logFile}); last output:\n${this.output.slice(-2000)}`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    this.save();
    return this.child.exitCode ?? -1;
  }

  send(line: string): void {
    this.child.stdin.write(`${line}\r`);
  }

  /** Logs in; returns the seconds from QEMU's start to the login prompt. */
  async login(user: string, password: string, timeoutSeconds = 900): Promise<number> {
    // "HOST login: " at the start of a line, not at its end: on a busy host a kernel message can
    // land right after the prompt, on the same line.
    // A booting system prints its progress; minutes of silence on a busy host under TCG have
    // been a frozen guest (a live ISO once stopped for 14 minutes after its frame buffer came up).
    await this.waitFor(/^(?!Last )\S+ login: /m, timeoutSeconds, 300);
    const prompt = this.seconds;
    // getty may print its prompt again while the system settles; a short pause avoids typing into a reset line.
    await new Promise((r) => setTimeout(r, 3000));
    this.send(user);
    await this.waitFor(/Password: ?/, 60);
    this.send(password);
    await this.waitFor(SHELL_PROMPT, 120);
    // Kernel messages share the console and land in the middle of command output (a clocksource
    // warning did, on a busy host): only emergencies (a power-off, a restart) are printed from here on.
    if (user === 'root') await this.run('dmesg -n 1');
    return prompt;
  }

  /** Runs a shell command; returns its output (without the command line) and exit status. */
  async run(command: string, timeoutSeconds = 120): Promise<{ out: string; status: number }> {
    const mark = `K${++this.marks}X`;
    // The status is printed after the mark's letters, so the echoed command line (with "$s") never matches.
    // The newline before the mark ends output that has none (a file printed with cat).
    this.send(`${command}; s=$?; echo; echo "${mark}=$s="`);
    const text = await this.waitFor(new RegExp(`${mark}=(\\d+)=`), timeoutSeconds);
    const status = Number(new RegExp(`${mark}=(\\d+)=`).exec(text)?.[1] ?? -1);
    // Without any escape sequence (bash's bracketed-paste switches too), from after the echoed command.
    // The last echo: a line typed before bash printed its prompt is echoed twice, once by the
    // terminal and once more by readline after the prompt.
    // A line as wide as the terminal (80 columns) is wrapped by readline with " \r", which split the
    // echoed command's mark ("K3 X") and left the command line in the output.
    const lines = text.replace(ESCAPES, '').replace(/ \r(?!\n)/g, '').replace(/\r/g, '').split('\n');
    const echoed = lines.map((l) => l.includes(`echo "${mark}=`)).lastIndexOf(true);
    // A kernel message printed before dmesg -n (or in a session that cannot set it) is no output of the command's.
    const output = lines.slice(echoed + 1, -1).filter((l) => !KERNEL_MESSAGE.test(l));
    return { out: output.join('\n').replace(/\n$/, ''), status };
  }

  save(): void {
    writeFileSync(this.logFile, this.text);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.save();
    if (this.child.exitCode === null) {
      const exited = new Promise((r) => this.child.once('exit', r));
      this.child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (this.child.exitCode === null) this.child.kill('SIGKILL');
    }
    rmSync(this.tmp, { recursive: true, force: true });
  }
}
