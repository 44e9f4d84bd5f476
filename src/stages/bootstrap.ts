import { z } from 'zod';
import { BuildError } from '../errors.js';
import { defineStage } from './define.js';

export const bootstrap = defineStage({
  name: 'bootstrap',
  version: 1,
  kind: 'tree',
  summary: 'Creates the root file system from scratch with mmdebstrap and installs every package in one apt transaction.',
  options: z.strictObject({
    release: z.string(),
    mirror: z.string(),
    components: z.array(z.string()),
    variant: z.string(),
    arch: z.string(),
    packages: z.array(z.string()),
    dpkgExclude: z.array(z.string()),
    dpkgInclude: z.array(z.string()),
  }),
  async run(ctx, o) {
    const args = [
      '--mode=root',
      `--variant=${o.variant}`,
      `--architectures=${o.arch}`,
      `--components=${o.components.join(',')}`,
      ...(o.packages.length ? [`--include=${o.packages.join(',')}`] : []),
      ...o.dpkgExclude.map((p) => `--dpkgopt=path-exclude=${p}`),
      ...o.dpkgInclude.map((p) => `--dpkgopt=path-include=${p}`),
      o.release,
      ctx.root,
      o.mirror,
    ];
    try {
      await ctx.exec('mmdebstrap', args);
    } catch (err) {
      throw explain(err, o.release);
    }
  },
});

/** apt's words for "no such package", turned into a message that names the package. */
function explain(err: unknown, release: string): unknown {
  if (!(err instanceof BuildError)) return err;
  const text = err.tail.join('\n');
  const missing = [
    ...text.matchAll(/Unable to locate package (\S+)/g),
    ...text.matchAll(/Package '?([^' ]+)'? has no installation candidate/g),
    ...text.matchAll(/Couldn't find any package by (?:glob|regex) '([^']+)'/g),
  ].map((m) => m[1]);
  if (!missing.length) return err;
  const names = [...new Set(missing)].join(', ');
  return new BuildError(`package not found in ${release}: ${names} (check the name with: apt-cache policy ${missing[0]})`, err.stage, err.command, err.tail);
}
