/** Hash routes (`#/builds/ID`): parsed here, drawn by app.ts. Pure. */

export type Route =
  | { page: 'signin'; next?: string }
  | { page: 'builds'; state?: string; recipe?: string }
  | { page: 'build'; id: string }
  | { page: 'new'; recipe?: string; version?: number }
  | { page: 'recipes' }
  | { page: 'recipe'; name: string; version?: number }
  | { page: 'compare'; a?: string; b?: string }
  | { page: 'workers' }
  | { page: 'admin' }
  | { page: 'missing'; path: string };

function query(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(text)) if (v) out[k] = v;
  return out;
}

const positive = (text: string | undefined): number | undefined => (text && /^[1-9][0-9]*$/.test(text) ? Number(text) : undefined);

export function parseRoute(hash: string): Route {
  const raw = hash.replace(/^#/, '') || '/builds';
  const [path = '', search = ''] = raw.split('?', 2);
  const q = query(search);
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const [first, second, third] = parts;
  if (first === 'signin') return q.next ? { page: 'signin', next: q.next } : { page: 'signin' };
  if (first === 'builds' && parts.length === 1) return { page: 'builds', ...(q.state ? { state: q.state } : {}), ...(q.recipe ? { recipe: q.recipe } : {}) };
  if (first === 'builds' && second && parts.length === 2) return { page: 'build', id: second };
  if (first === 'new' && parts.length === 1) {
    const version = positive(q.version);
    return { page: 'new', ...(q.recipe ? { recipe: q.recipe } : {}), ...(version ? { version } : {}) };
  }
  if (first === 'recipes' && parts.length === 1) return { page: 'recipes' };
  if (first === 'recipes' && second && parts.length <= 3) {
    const version = positive(third);
    return version ? { page: 'recipe', name: second, version } : { page: 'recipe', name: second };
  }
  if (first === 'compare' && parts.length === 1) return { page: 'compare', ...(q.a ? { a: q.a } : {}), ...(q.b ? { b: q.b } : {}) };
  if (first === 'workers' && parts.length === 1) return { page: 'workers' };
  if (first === 'admin' && parts.length === 1) return { page: 'admin' };
  return { page: 'missing', path: raw };
}

/** The hash for a route with query values (empty ones left out). */
export function href(path: string, q: Record<string, string | number | undefined> = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== '') params.set(k, String(v));
  const s = params.toString();
  return `#${path}${s ? `?${s}` : ''}`;
}
