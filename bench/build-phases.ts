/**
 * Where a cold build's time goes, read from its build.log (every line is timestamped) and
 * build.json: the bootstrap's phases as mmdebstrap announces them, the package sets, the initramfs,
 * the file systems, the hashing of each stage's files into the store, kiln's own work between
 * stages and the outputs (the image's copy and hash, the SBOMs, the lock). The lines add up to the
 * build's time.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface BuildRecord {
  started: string;
  seconds: number;
  stages: { name: string; seconds: number; cached?: boolean }[];
}

/** `hashed`: each stage's seconds spent recording its files' hashes in the store (its entry's meta.json), part of its time in build.json. */
export function buildPhases(log: string, record: BuildRecord, hashed: Record<string, number>): [string, number][] {
  const lines = log.split('\n').flatMap((line) => {
    const m = /^(\d{4}-\S+Z) \[([\w-]+)\] (.*)$/.exec(line);
    return m ? [{ at: Date.parse(m[1] ?? ''), stage: m[2] ?? '', text: m[3] ?? '' }] : [];
  });
  const started = Date.parse(record.started);
  const first = (test: (l: (typeof lines)[number]) => boolean) => lines.find(test)?.at ?? NaN;
  const boot = (text: string) => first((l) => l.stage === 'bootstrap' && l.text.startsWith(text));
  const bootLines = lines.filter((l) => l.stage === 'bootstrap');
  const marks = {
    start: bootLines[0]?.at ?? NaN,
    download: boot('I: downloading packages'),
    extract: boot('I: extracting archives'),
    essential: boot('I: installing essential packages'),
    rest: boot('I: installing remaining packages'),
    end: bootLines.at(-1)?.at ?? NaN,
  };
  // The first thing mmdebstrap does after apt: its customize hooks (kiln always has one) or the cleanup.
  const after = first((l) => l.stage === 'bootstrap' && l.at >= marks.rest && /^I: (running --customize-hook|cleaning package lists)/.test(l.text));
  const publish = first((l) => l.stage === 'publish');
  const hashing = (name: string) => hashed[name] ?? 0;
  const stage = (name: string) => record.stages.filter((s) => s.name === name).reduce((sum, s) => sum + s.seconds - hashing(s.name), 0);
  const named = ['bootstrap', 'packages', 'kernel', 'initramfs', 'filesystems'];
  const others = record.stages.filter((s) => !named.includes(s.name));
  const inStages = record.stages.reduce((sum, s) => sum + s.seconds, 0);
  const s = (ms: number) => ms / 1000;
  return [
    ['bootstrap: package lists (apt update)', s(marks.download - marks.start)],
    ['bootstrap: download', s(marks.extract - marks.download)],
    ['bootstrap: unpack the essential packages', s(marks.essential - marks.extract)],
    ['bootstrap: install the essential packages', s(marks.rest - marks.essential)],
    ['bootstrap: the rest (unpack, configure, triggers)', s(after - marks.rest)],
    ['bootstrap: hooks, clean-up, package cache', s(marks.end - after)],
    ['bootstrap: before mmdebstrap (mirror check) and after', stage('bootstrap') - s(marks.end - marks.start)],
    ['package sets', stage('packages')],
    ['initramfs (kernel stage)', stage('kernel')],
    ['initramfs check (initramfs stage: kept or made again)', stage('initramfs')],
    ['file systems', stage('filesystems')],
    [`the other ${others.length} stages`, others.reduce((sum, x) => sum + x.seconds - hashing(x.name), 0)],
    ["hashing each stage's files into the store", Object.values(hashed).reduce((sum, x) => sum + x, 0)],
    ['between stages (the plan, mounts)', s(publish - started) - inStages],
    ['outputs (image copy and hash, SBOM, lock)', record.seconds - s(publish - started)],
  ];
}

/** Seconds each stage spent hashing its files into the store, by stage name (from its entries' meta.json). */
export function hashSeconds(cache: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const entry of readdirSync(join(cache, 'stages'))) {
    const meta = JSON.parse(readFileSync(join(cache, 'stages', entry, 'meta.json'), 'utf8')) as { stage: string; contents?: { seconds: number } };
    out[meta.stage] = (out[meta.stage] ?? 0) + (meta.contents?.seconds ?? 0);
  }
  return out;
}
