/**
 * The one place the browser talks to the server: every path of the public API the interface uses,
 * the bearer token from the session, and failures as ApiError with words (errors.ts). Response
 * types come from the service's zod schemas (type-only imports: no zod in the browser).
 */
import type { z } from 'zod';
import type * as P from '../../service/protocol.js';
import { explain, type Explained } from './errors.js';

export type Build = z.infer<typeof P.Build>;
export type BuildList = z.infer<typeof P.BuildList>;
export type BuildState = z.infer<typeof P.BuildState>;
export type StreamEvent = z.infer<typeof P.BuildStreamEvent>;
export type Artifact = z.infer<typeof P.Artifact>;
export type RecipeSummary = z.infer<typeof P.RecipeSummary>;
export type RecipeVersion = z.infer<typeof P.RecipeVersion>;
export type RecipeDetail = z.infer<typeof P.RecipeDetail>;
export type PushRecipeResponse = z.infer<typeof P.PushRecipeResponse>;
export type WorkerInfo = z.infer<typeof P.WorkerInfo>;
export type TokenInfo = z.infer<typeof P.TokenInfo>;
export type CreatedToken = z.infer<typeof P.CreatedToken>;
export type CreateBuild = z.infer<typeof P.CreateBuild>;
export type Scope = z.infer<typeof P.Scope>;
export type Arch = z.infer<typeof P.Arch>;

const TOKEN_KEY = 'kiln.token';

export const session = {
  get token(): string | null {
    return sessionStorage.getItem(TOKEN_KEY);
  },
  signIn(token: string): void {
    sessionStorage.setItem(TOKEN_KEY, token);
  },
  signOut(): void {
    sessionStorage.removeItem(TOKEN_KEY);
  },
};

export class ApiError extends Error {
  readonly explained: Explained;
  constructor(
    readonly status: number,
    body: unknown,
  ) {
    const explained = explain(status, body);
    super(explained.title);
    this.explained = explained;
  }
}

/** Called on any 401 after sign-in: the token stopped working (revoked), so the app asks for one. */
let onUnauthorized: () => void = () => undefined;
export function whenUnauthorized(handler: () => void): void {
  onUnauthorized = handler;
}

interface RequestOptions {
  json?: unknown;
  body?: BodyInit;
  contentType?: string;
  signal?: AbortSignal;
  headers?: Record<string, string>;
  /** Use this token instead of the session's (sign-in checks one before keeping it). */
  token?: string;
}

export async function request(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { ...options.headers };
  const token = options.token ?? session.token;
  if (token) headers.authorization = `Bearer ${token}`;
  let body = options.body;
  if (options.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.json);
  } else if (options.contentType) headers['content-type'] = options.contentType;
  let response: Response;
  try {
    response = await fetch(path, { method, headers, ...(body === undefined ? {} : { body }), ...(options.signal ? { signal: options.signal } : {}) });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new ApiError(0, undefined);
  }
  if (response.ok) return response;
  let errorBody: unknown;
  try {
    errorBody = await response.json();
  } catch {
    errorBody = undefined;
  }
  if (response.status === 401 && !options.token) onUnauthorized();
  throw new ApiError(response.status, errorBody);
}

async function json<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const response = await request(method, path, options);
  return response.status === 204 ? (undefined as T) : ((await response.json()) as T);
}

const e = encodeURIComponent;

export const api = {
  builds: (q: { state?: string; recipe?: string; limit?: number; cursor?: string }, signal?: AbortSignal) => {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== '') params.set(k, String(v));
    return json<BuildList>('GET', `/v1/builds?${params.toString()}`, signal ? { signal } : {});
  },
  build: (id: string) => json<Build>('GET', `/v1/builds/${e(id)}`),
  createBuild: (body: CreateBuild) => json<Build>('POST', '/v1/builds', { json: body }),
  cancel: (id: string) => json<Build>('POST', `/v1/builds/${e(id)}/cancel`),
  retry: (id: string) => json<Build>('POST', `/v1/builds/${e(id)}/retry`),
  artifacts: (id: string) => json<z.infer<typeof P.ArtifactList>>('GET', `/v1/builds/${e(id)}/artifacts`),
  artifactUrl: (id: string, name: string) => `/v1/builds/${e(id)}/artifacts/${e(name)}`,
  eventsUrl: (id: string) => `/v1/builds/${e(id)}/events`,
  logUrl: (id: string) => `/v1/builds/${e(id)}/log`,
  /** `kiln diff --json` of two builds' outputs. */
  buildDiff: (a: string, b: string) => json<unknown>('GET', `/v1/builds/${e(a)}/diff?against=${e(b)}`),
  recipes: () => json<z.infer<typeof P.RecipeList>>('GET', '/v1/recipes'),
  versions: (name: string) => json<z.infer<typeof P.RecipeVersionList>>('GET', `/v1/recipes/${e(name)}`),
  recipe: (name: string, version: number) => json<RecipeDetail>('GET', `/v1/recipes/${e(name)}/versions/${version}/detail`),
  /** The recipe file itself, as text. */
  recipeText: async (name: string, version: number) => (await request('GET', `/v1/recipes/${e(name)}/versions/${version}`)).text(),
  /** Every file of a version: the canonical tar of its folder. */
  recipeBundle: async (name: string, version: number) => new Uint8Array(await (await request('GET', `/v1/recipes/${e(name)}/versions/${version}?format=bundle`)).arrayBuffer()),
  recipeDiff: async (name: string, from: number, to: number) => (await request('GET', `/v1/recipes/${e(name)}/diff?from=${from}&to=${to}`)).text(),
  /** `query`: `?file=...&lenient=true&type=...` or empty (upload.ts makes it). */
  pushRecipe: (body: BodyInit, contentType: string, query = '') => json<PushRecipeResponse>('POST', `/v1/recipes${query}`, { body, contentType }),
  workers: () => json<z.infer<typeof P.WorkerList>>('GET', '/v1/workers'),
  tokens: () => json<z.infer<typeof P.TokenList>>('GET', '/v1/tokens'),
  createToken: (name: string, scopes: Scope[]) => json<CreatedToken>('POST', '/v1/tokens', { json: { name, scopes } }),
  revokeToken: (id: string) => json<undefined>('DELETE', `/v1/tokens/${e(id)}`),
};

/**
 * Fetches `path` with the token and hands it to the browser as a download named `name`. Held in
 * memory first (a link cannot carry the Authorization header); see the report on signed links.
 */
export async function downloadFrom(path: string, name: string): Promise<void> {
  const response = await request('GET', path);
  const url = URL.createObjectURL(await response.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  // The download has taken its copy once click() returns a tick later.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

export const download = (buildId: string, name: string) => downloadFrom(api.artifactUrl(buildId, name), name);
