/** GET /v1/builds/:id/log: the build's log lines as one text, with Range; grows while it runs. */
import type { App, ServiceContext } from '../context.js';
import { BuildParams, findBuild } from './builds.js';
import { parseRange, rangeError } from './range.js';

const PAGE = 2000;

export async function logText(ctx: ServiceContext, buildId: string): Promise<Buffer> {
  const parts: string[] = [];
  for (let after = 0; ; ) {
    const page = await ctx.store.events(buildId, after, PAGE);
    for (const e of page) if (e.type === 'log') parts.push(`${e.line}\n`);
    const last = page[page.length - 1];
    if (!last || page.length < PAGE) break;
    after = last.seq;
  }
  return Buffer.from(parts.join(''), 'utf8');
}

export function logRoutes(app: App, ctx: ServiceContext): void {
  app.get(
    '/v1/builds/:id/log',
    { config: { auth: ['read'] }, schema: { tags: ['builds'], description: 'text/plain; supports Range (206, 416).', params: BuildParams } },
    async (request, reply) => {
      await findBuild(ctx, request.params.id);
      const text = await logText(ctx, request.params.id);
      reply.type('text/plain; charset=utf-8').header('Accept-Ranges', 'bytes').header('Cache-Control', 'no-store');
      const range = parseRange(request.headers.range, text.length);
      if (range === 'unsatisfiable') throw rangeError(reply, text.length);
      if (!range) return reply.send(text);
      return reply
        .code(206)
        .header('Content-Range', `bytes ${range.start}-${range.end}/${text.length}`)
        .send(text.subarray(range.start, range.end + 1));
    },
  );
}
