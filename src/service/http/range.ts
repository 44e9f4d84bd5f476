import type { FastifyReply } from 'fastify';
import { ApiError } from './errors.js';

/** One byte range of `Range: bytes=...` (RFC 9110); several ranges are answered with the whole body. */
export type RangeAnswer = { start: number; end: number } | 'unsatisfiable' | undefined;

export function parseRange(header: string | undefined, size: number): RangeAnswer {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    // bytes=-N: the last N bytes.
    const n = Number(m[2]);
    if (n === 0) return 'unsatisfiable';
    return size === 0 ? 'unsatisfiable' : { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || start > end) return 'unsatisfiable';
  return { start, end };
}

/** 416 with the size, as RFC 9110 asks, in the usual error body. */
export function rangeError(reply: FastifyReply, size: number): ApiError {
  reply.header('Content-Range', `bytes */${size}`);
  return new ApiError(416, 'invalid_range', `the range lies outside the ${size} bytes there are`);
}
