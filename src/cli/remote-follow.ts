/**
 * Watching a remote build: its event stream drawn like a local build (--follow), or only waited
 * on (--wait); and its log printed as it grows, each new piece fetched with a Range request when
 * the event stream says something happened (no polling on a timer).
 */
import { Build, BuildStreamEvent } from '../service/protocol.js';
import type { ApiClient } from '../worker/api.js';
import { routes } from '../worker/routes.js';
import { isFinalState, toBuildEvent } from './remote-render.js';
import { followStream } from './remote-sse.js';
import type { Reporter } from './reporters.js';

/** Follows build `id` to its end; returns it in its final state. */
export async function followBuild(api: ApiClient, id: string, reporter: Reporter | undefined, note: (line: string) => void): Promise<Build> {
  let build = await api.json(Build, 'GET', routes.build(id));
  let startedAt = build.startedAt;
  await followStream(api, routes.events(id), {
    onReconnect: (err) => note(`connection lost (${err.message}); resuming`),
    onMessage: (m) => {
      const parsed = BuildStreamEvent.safeParse(JSON.parse(m.data));
      // An event this client does not know (a newer server): skipped, the stream goes on.
      if (!parsed.success) return false;
      const e = parsed.data;
      if (e.type === 'state' && e.state === 'running') startedAt = e.time;
      if (reporter) {
        const shown = toBuildEvent(e, build, startedAt);
        if (shown && 'event' in shown) reporter.listener(shown.event);
        else if (shown) note(shown.note);
      }
      return isFinalState(e);
    },
  });
  await reporter?.done();
  build = await api.json(Build, 'GET', routes.build(id));
  return build;
}

/** Prints the log from `offset` on; returns the new offset. */
export async function printLogFrom(api: ApiClient, id: string, offset: number, out: (chunk: Uint8Array) => void): Promise<number> {
  const response = await api.request('GET', routes.log(id), { headers: offset ? { range: `bytes=${offset}-` } : {}, accept: [416] });
  // 416: nothing past the offset yet.
  if (response.status === 416) {
    await response.body?.cancel();
    return offset;
  }
  const bytes = new Uint8Array(await response.arrayBuffer());
  // A 200 to a Range request is the whole text: skip what was printed.
  const fresh = response.status === 206 ? bytes : bytes.subarray(offset);
  if (fresh.length) out(fresh);
  return offset + fresh.length;
}

/** The log so far, then whatever is added, until the build ends. */
export async function followLog(api: ApiClient, id: string, out: (chunk: Uint8Array) => void, note: (line: string) => void): Promise<Build> {
  let offset = await printLogFrom(api, id, 0, out);
  let fetching: Promise<void> | undefined;
  let again = false;
  // One fetch at a time; events that come meanwhile ask for one more afterwards.
  const refresh = (): Promise<void> => {
    if (fetching) {
      again = true;
      return fetching;
    }
    fetching = (async () => {
      do {
        again = false;
        offset = await printLogFrom(api, id, offset, out);
      } while (again);
    })().finally(() => (fetching = undefined));
    return fetching;
  };
  let failure: Error | undefined;
  await followStream(api, routes.events(id), {
    onReconnect: (err) => note(`connection lost (${err.message}); resuming`),
    onMessage: (m) => {
      const parsed = BuildStreamEvent.safeParse(JSON.parse(m.data));
      if (parsed.success && parsed.data.type === 'log') refresh().catch((err: unknown) => (failure ??= err instanceof Error ? err : new Error(String(err))));
      return parsed.success && isFinalState(parsed.data);
    },
  });
  if (failure) throw failure;
  await fetching;
  await refresh();
  return api.json(Build, 'GET', routes.build(id));
}
