/** Canonical JSON (sorted keys, no whitespace) and the hashes built on it. */
import { createHash } from 'node:crypto';

export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const v = (value as Record<string, unknown>)[key];
    if (v !== undefined) out[key] = sortKeys(v);
  }
  return out;
}

export function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The id of anything describable as JSON: `sha256:` + hex of its canonical form. */
export function idOf(value: unknown): string {
  return `sha256:${sha256(canonicalJson(value))}`;
}

/** A JSON object as it is stored (a store entry's facts): whoever reads it checks its shape with a schema. */
export type JsonObject = Record<string, unknown>;
