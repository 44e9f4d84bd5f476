/**
 * API errors in words: what happened and what to do, from the status and the ErrorBody `code`. The
 * server's own message is kept (it names the thing), but never the raw JSON. Pure.
 */
import type { ErrorBody } from '../../service/protocol.js';

type Diagnostic = NonNullable<ErrorBody['error']['diagnostics']>[number];

export interface Explained {
  /** One sentence: what happened. */
  title: string;
  /** The server's words, when it sent any. */
  detail?: string;
  /** What the reader can do about it. */
  action: string;
  diagnostics: Diagnostic[];
  requestId?: string;
}

interface Wording {
  title: string;
  action: string;
}

const BY_CODE = {
  unauthorized: {
    title: 'The server does not accept this token.',
    action: 'Check that you pasted the whole token. It may have been revoked: ask an admin for a new one and sign in again.',
  },
  forbidden: {
    title: 'Your token is valid, but it may not do this.',
    action: 'Ask an admin for a token with the scope this needs (read to look, build to start or cancel builds and push recipes, admin for tokens).',
  },
  not_found: { title: 'This does not exist on the server.', action: 'Check the address, or go back to the list: it may have been removed or never existed.' },
  invalid_request: { title: 'The server refused the request as it was sent.', action: 'Check the values in the form; the detail below names the field.' },
  invalid_recipe: { title: 'The recipe does not validate.', action: 'Fix the lines listed below and upload it again.' },
  invalid_bundle: {
    title: 'The recipe bundle was refused.',
    action: 'Upload only regular files and folders from inside the recipe folder: no absolute paths, "..", links that lead outside it, device files or setuid bits.',
  },
  too_large: { title: 'The upload is larger than the server allows.', action: 'Leave large files out of the folder, or ask the admin to raise the upload limit.' },
  conflict: { title: 'That cannot be done in the current state.', action: 'The page shows the current state now; try again if it still applies.' },
  lease_lost: { title: 'The worker no longer holds this job.', action: 'Nothing to do here: the server has handed the build to another worker or ended it.' },
  no_space: { title: 'The server has run out of disk space.', action: 'Ask the admin to free space on the server (old artifacts, the cache), then try again.' },
  internal: { title: 'The server failed while handling this.', action: 'Try again. If it keeps failing, give the admin the request id below.' },
} satisfies Record<string, Wording>;
const CODES: Record<string, Wording | undefined> = BY_CODE;

function byStatus(status: number): Wording {
  if (status === 0) return { title: 'The server cannot be reached.', action: 'Check that kiln serve is running and that this computer can reach it, then try again.' };
  if (status === 401) return BY_CODE.unauthorized;
  if (status === 403) return BY_CODE.forbidden;
  if (status === 404) return BY_CODE.not_found;
  if (status === 409) return BY_CODE.conflict;
  if (status === 413) return BY_CODE.too_large;
  if (status === 422 || status === 400) return BY_CODE.invalid_request;
  if (status === 502 || status === 503 || status === 504) return { title: `The server is unavailable (HTTP ${status}).`, action: 'It may be restarting: wait a moment and try again.' };
  return { title: `The server answered HTTP ${status} without an explanation.`, action: 'Try again; if it keeps happening, tell the admin the time it happened.' };
}

function isErrorBody(body: unknown): body is ErrorBody {
  if (typeof body !== 'object' || body === null || !('error' in body)) return false;
  const e = body.error;
  return typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'string' && typeof (e as { message?: unknown }).message === 'string';
}

/** `status` 0 means no answer at all (network error). `body` is whatever JSON came back, if any. */
export function explain(status: number, body: unknown): Explained {
  if (!isErrorBody(body)) return { ...byStatus(status), diagnostics: [] };
  const { code, message, diagnostics, requestId } = body.error;
  const known = CODES[code] ?? byStatus(status);
  const out: Explained = { ...known, diagnostics: diagnostics ?? [] };
  if (message && message !== known.title) out.detail = message;
  if (requestId) out.requestId = requestId;
  return out;
}

/** file:line:col, as the CLI prints it. */
export function diagnosticPlace(d: Diagnostic): string {
  return [d.file, d.line, d.line !== undefined ? d.col : undefined].filter((x) => x !== undefined).join(':');
}
