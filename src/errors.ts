/**
 * The two kinds of failure a user can cause or meet. Anything else thrown is a bug in kiln and is
 * shown with its stack trace.
 */
import { formatDiagnostic, type Diagnostic } from './diagnostics.js';

/**
 * Bad input (recipe, flags, files): exit 2. The message names the place, the value and the fix.
 * Errors about a file carry its diagnostics (positions and source lines) for a code frame; the
 * message is then their one-line forms, one per line.
 */
export class UserError extends Error {
  readonly exitCode = 2;
  constructor(
    message: string,
    readonly diagnostics: readonly Diagnostic[] = [],
  ) {
    super(message);
    this.name = 'UserError';
  }

  static of(diagnostics: readonly Diagnostic[]): UserError {
    return new UserError(diagnostics.map(formatDiagnostic).join('\n'), diagnostics);
  }
}

/** A build step failed: exit 1. Names the stage, the command and the last lines of its output. */
export class BuildError extends Error {
  readonly exitCode = 1;
  constructor(
    message: string,
    readonly stage?: string,
    readonly command?: string,
    readonly tail: string[] = [],
  ) {
    super(message);
    this.name = 'BuildError';
  }
}

/** The user interrupted (Ctrl-C, SIGTERM): exit 130 after cleaning up. */
export class InterruptedError extends Error {
  readonly exitCode = 130;
  constructor(signal: string) {
    super(`interrupted by ${signal}`);
    this.name = 'InterruptedError';
  }
}

/** An error from the operating system (no space left, permission denied), not a bug in kiln. */
export function isSystemError(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string' && typeof (err as NodeJS.ErrnoException).syscall === 'string';
}
