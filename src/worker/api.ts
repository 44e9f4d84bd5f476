/**
 * The HTTP side of every build-service client (the worker and `kiln remote`): bearer token, JSON
 * bodies checked against protocol.ts, and one error type that says whether trying again can help.
 */
import type { z } from 'zod';
import { ErrorBody, type Diagnostic } from '../service/protocol.js';

/** A request the server refused (status ≥ 400), or one that got no answer at all (status 0). */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
    readonly diagnostics: z.infer<typeof Diagnostic>[] = [],
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** No answer, a server error, or "slow down": the same request may succeed later. */
  get retryable(): boolean {
    return this.status === 0 || this.status >= 500 || this.status === 408 || this.status === 429;
  }
}

export interface RequestOptions {
  body?: BodyInit;
  /** Serialized as the JSON body. */
  json?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Statuses that are not errors besides 2xx (e.g. 416 for a Range past the end). */
  accept?: number[];
}

export class ApiClient {
  readonly server: string;

  constructor(
    server: string,
    private readonly token: string,
  ) {
    // A trailing slash would make "//v1/..." paths.
    this.server = server.replace(/\/+$/, '');
  }

  url(path: string): string {
    return new URL(path, `${this.server}/`).toString();
  }

  /** The raw response of a successful request; throws ApiError otherwise. */
  async request(method: string, path: string, o: RequestOptions = {}): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}`, ...o.headers };
    let body = o.body;
    if (o.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(o.json);
    }
    let response: Response;
    try {
      response = await fetch(this.url(path), {
        method,
        headers,
        ...(body === undefined ? {} : { body }),
        // A streamed body (artifact uploads) needs this; harmless for the others.
        ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
        ...(o.signal ? { signal: o.signal } : {}),
      });
    } catch (err) {
      if (o.signal?.aborted) throw err;
      throw new ApiError(`${method} ${this.url(path)}: no answer (${causeOf(err)})`, 0, 'unreachable');
    }
    if (response.ok || o.accept?.includes(response.status)) return response;
    throw await errorOf(method, path, response);
  }

  /** A JSON answer checked against its schema (a server that disagrees with it is caught here). */
  async json<S extends z.ZodType>(schema: S, method: string, path: string, o: RequestOptions = {}): Promise<z.infer<S>> {
    const response = await this.request(method, path, o);
    const parsed = schema.safeParse(await response.json());
    if (!parsed.success) throw new ApiError(`${method} ${path}: the server's answer does not match the protocol: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, 502, 'bad_answer');
    return parsed.data;
  }
}

async function errorOf(method: string, path: string, response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => '');
  let parsed: ErrorBody | undefined;
  try {
    const result = ErrorBody.safeParse(JSON.parse(text));
    if (result.success) parsed = result.data;
  } catch {
    // Not JSON: a proxy's error page, say. Its first line is still worth showing.
  }
  if (parsed) return new ApiError(parsed.error.message, response.status, parsed.error.code, parsed.error.diagnostics ?? []);
  const snippet = text.split('\n')[0]?.slice(0, 200) ?? '';
  return new ApiError(`${method} ${path}: HTTP ${response.status} ${response.statusText}${snippet ? `: ${snippet}` : ''}`, response.status, 'http');
}

/** fetch says "fetch failed"; the reason (ECONNREFUSED, a DNS error) is in its cause. */
function causeOf(err: unknown): string {
  if (err instanceof Error && err.cause instanceof Error) return err.cause.message;
  return err instanceof Error ? err.message : String(err);
}

/** Exponential back-off with jitter for retrying after network errors: 1 s, 2 s, 4 s ... at most `max`. */
export function backoffMs(attempt: number, maxMs = 30_000): number {
  const base = Math.min(maxMs, 1000 * 2 ** Math.max(0, attempt));
  return Math.round(base * (0.75 + Math.random() * 0.5));
}

/** Sleeps, or resolves early (without throwing) when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
