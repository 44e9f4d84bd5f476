/**
 * A local HTTP proxy in front of a Debian mirror that serves at most a given bandwidth, shared by
 * all connections. This host reaches its mirror at about 200 MB/s, which hides what a package
 * cache saves on an ordinary link; the cache benchmark can run through this proxy instead.
 */
import { createServer, request, type Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ThrottledMirror {
  url: string;
  /** How many .deb files were asked for so far (a warm package cache should ask for none). */
  debRequests(): number;
  close(): Promise<void>;
}

export async function startThrottledMirror(upstream: string, mbitPerSecond: number): Promise<ThrottledMirror> {
  const bytesPerMs = (mbitPerSecond * 1e6) / 8 / 1000;
  let nextFree = performance.now();
  // Each chunk books its slot on one timeline, so the rate holds across parallel downloads.
  const book = async (bytes: number) => {
    const now = performance.now();
    const at = Math.max(now, nextFree);
    nextFree = at + bytes / bytesPerMs;
    if (at > now) await sleep(at - now);
  };
  const base = new URL(upstream.endsWith('/') ? upstream : `${upstream}/`);
  let debs = 0;
  const server: Server = createServer((req, res) => {
    if (req.url?.endsWith('.deb')) debs++;
    const target = new URL(req.url ?? '/', base.origin);
    const headers = { ...req.headers, host: target.host };
    const up = request(target, { method: req.method, headers }, (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      const relay = async () => {
        for await (const chunk of upRes) {
          await book((chunk as Buffer).length);
          if (!res.write(chunk)) await new Promise((resolve) => res.once('drain', resolve));
        }
        res.end();
      };
      relay().catch((err: Error) => res.destroy(err));
    });
    up.on('error', (err) => res.destroy(err));
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the proxy has no port');
  return {
    url: `http://127.0.0.1:${address.port}${base.pathname.replace(/\/$/, '')}`,
    debRequests: () => debs,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
