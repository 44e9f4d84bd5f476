#!/usr/bin/env node
/**
 * The kiln command's entry. A build runs isolated (engine/isolate.ts): the kiln a user starts only
 * re-executes itself in new namespaces and waits. It decides that here, before loading the command
 * line (about half a second of module loading on a 2-core host), so a build loads kiln and plans
 * its recipe once, in there; every build of the service's workers starts that much sooner.
 * Everything else (help, a user who is not root or a host without the tools, who must be told so)
 * goes to program.ts.
 */
import { existsSync } from 'node:fs';
import { isIsolated, noteEarlySignals, runIsolated } from '../engine/isolate.js';

const ISOLATED_COMMANDS = new Set(['build', 'export-container']);

const args = process.argv.slice(2);
const command = args.find((arg) => !arg.startsWith('-'));
const help = args.includes('--help') || args.includes('-h');
// Without them the command line's host check says what is missing and how to install it.
const onPath = (tool: string) => (process.env.PATH ?? '').split(':').some((dir) => dir !== '' && existsSync(`${dir}/${tool}`));

if (!isIsolated() && command !== undefined && ISOLATED_COMMANDS.has(command) && !help && process.getuid?.() === 0 && onPath('setpriv') && onPath('unshare')) {
  try {
    process.exitCode = await runIsolated();
  } catch (err) {
    // setpriv and unshare are util-linux, on every Debian system; say so rather than show a stack.
    process.stderr.write(`error: cannot start the isolated build (${err instanceof Error ? err.message : String(err)}); kiln needs setpriv and unshare (Debian package util-linux)\n`);
    process.exitCode = 1;
  }
} else {
  if (isIsolated()) noteEarlySignals();
  await import('./program.js');
}
