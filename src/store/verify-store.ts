/**
 * `kiln cache verify`: is every store entry exactly what was committed, and every cached .deb
 * whole? An entry is compared with the content manifest recorded when it was stored
 * (entry-hashes.ts); entries of kilns that recorded none are "unverified", not corrupt.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { open, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256File } from '../host/sparse-hash.js';
import { compareContents, parseContents, recordEntry } from './entry-hashes.js';
import { CONTENTS, derivedName, folderOf, type EntryMeta, type Store } from './store.js';

export interface Problem {
  /** Short id (12 hex digits) of the entry, or a .deb's file name. */
  subject: string;
  /** The stage that made the entry, or `package cache`. */
  stage: string;
  /** The path inside the entry (`tree/etc/passwd`), or the entry's own file (`meta.json`). */
  file: string;
  message: string;
}

export interface VerifyReport {
  entries: number;
  /** Full ids of corrupt entries. */
  corrupt: string[];
  /** Entries written by a kiln that recorded no content manifest. */
  unverified: string[];
  debs: number;
  corruptDebs: string[];
  problems: Problem[];
}

/** Names that may sit beside tree/ or files/ in an entry folder. */
const ENTRY_FILES = new Set(['meta.json', 'used', CONTENTS, 'derived']);

export async function verifyStore(store: Store): Promise<VerifyReport> {
  const report: VerifyReport = { entries: 0, corrupt: [], unverified: [], debs: 0, corruptDebs: [], problems: [] };
  const names = existsSync(store.stages) ? (await readdir(store.stages)).filter((n) => /^[0-9a-f]{64}$/.test(n)).sort() : [];
  const metas = new Map<string, EntryMeta>();
  for (const name of names) {
    const meta = await readMeta(join(store.stages, name, 'meta.json'));
    if (typeof meta !== 'string') metas.set(name, meta);
  }
  for (const name of names) {
    const dir = join(store.stages, name);
    const problems = await verifyEntry(dir, name, metas);
    // A build that replaced the entry meanwhile moved it to the trash: nothing to say about it.
    if (!existsSync(dir)) continue;
    report.entries++;
    if (problems === 'unverified') report.unverified.push(`sha256:${name}`);
    else if (problems.length) {
      report.corrupt.push(`sha256:${name}`);
      report.problems.push(...problems);
    }
  }
  const debs = await verifyDebs(store.packages, [...metas.values()]);
  report.debs = debs.count;
  report.corruptDebs = debs.problems.map((p) => p.subject);
  report.problems.push(...debs.problems);
  return report;
}

async function readMeta(file: string): Promise<EntryMeta | string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    return `cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`;
  }
  try {
    const meta = JSON.parse(text) as EntryMeta;
    if (typeof meta.id !== 'string' || typeof meta.stage !== 'string' || (meta.kind !== 'tree' && meta.kind !== 'image')) return 'is not an entry record (id, stage or kind missing)';
    return meta;
  } catch {
    return 'is not valid JSON';
  }
}

/** The entry's problems, or `unverified` when it has no content manifest to check against. */
export async function verifyEntry(dir: string, name: string, metas: ReadonlyMap<string, EntryMeta>): Promise<Problem[] | 'unverified'> {
  const meta = await readMeta(join(dir, 'meta.json'));
  const problem = (stage: string, file: string, message: string): Problem => ({ subject: name.slice(0, 12), stage, file, message });
  if (typeof meta === 'string') return [problem('?', 'meta.json', `${meta}; the entry cannot be used`)];
  const { stage } = meta;
  const out: Problem[] = [];
  if (folderOf(meta.id) !== name) out.push(problem(stage, 'meta.json', `says id ${meta.id}, but the entry is stored as ${name}`));
  if (meta.input !== null) {
    const input = metas.get(folderOf(meta.input));
    if (!input) out.push(problem(stage, 'meta.json', `its input ${folderOf(meta.input).slice(0, 12)} is not in the store: a build would stack this entry on a remade one`));
    else if (input.created > meta.created) out.push(problem(stage, 'meta.json', `its input ${folderOf(meta.input).slice(0, 12)} (${input.stage}) was made after it (${input.created} > ${meta.created}): it was made on a replaced layer`));
  }
  const top = meta.kind === 'tree' ? 'tree' : 'files';
  const present = await readdir(dir);
  for (const extra of present.filter((n) => n !== top && !ENTRY_FILES.has(n)).sort()) out.push(problem(stage, extra, 'is not part of a store entry'));
  if (!present.includes(top)) return [...out, problem(stage, top, `is missing: a ${meta.kind} entry keeps its result there`)];
  if (!meta.contents) return out.length ? out : 'unverified';
  let text: string;
  try {
    text = await readFile(join(dir, CONTENTS), 'utf8');
  } catch {
    return [...out, problem(stage, CONTENTS, 'is missing, though meta.json records one')];
  }
  if (createHash('sha256').update(text).digest('hex') !== meta.contents.sha256) return [...out, problem(stage, CONTENTS, 'does not match the sha256 meta.json records for it')];
  const recorded = parseContents(text);
  for (const d of compareContents(recorded, await recordEntry(dir, top))) out.push(problem(stage, d.path, d.message));
  out.push(...(await checkDerived(dir, top, recorded)).map((d) => problem(stage, d.file, d.message)));
  return out;
}

/** A stored sha256 of an output that is wrong would go into SHA256SUMS as it is. */
async function checkDerived(dir: string, top: string, recorded: ReturnType<typeof parseContents>): Promise<{ file: string; message: string }[]> {
  const out: { file: string; message: string }[] = [];
  for (const r of recorded) {
    if (r.type !== 'file' || !r.sha256 || !r.path.startsWith(`${top}/`)) continue;
    const name = derivedName(`${r.path.slice(top.length + 1)}.sha256`);
    const stored = await readFile(join(dir, 'derived', name), 'utf8').catch(() => undefined);
    if (stored !== undefined && stored !== r.sha256) out.push({ file: `derived/${name}`, message: `says ${stored.slice(0, 12)}…, the file's sha256 is ${r.sha256?.slice(0, 12) ?? '?'}…` });
  }
  return out;
}

/**
 * Each cached .deb a build recorded (the bootstrap stage's facts list every .deb with the sha256
 * it had when apt verified it) must still have that sha256; any other must at least be a whole
 * `ar` archive (a truncated one fails this).
 */
export async function verifyDebs(folder: string, metas: readonly EntryMeta[]): Promise<{ count: number; problems: Problem[] }> {
  const known = new Map<string, Set<string>>();
  for (const meta of metas) {
    const debs = Array.isArray(meta.facts.debs) ? (meta.facts.debs as { name: string; version: string; arch: string; sha256: string }[]) : [];
    for (const d of debs) {
      const file = `${d.name}_${d.version.replace(/:/g, '%3a')}_${d.arch}.deb`;
      known.set(file, (known.get(file) ?? new Set()).add(d.sha256));
    }
  }
  const names = existsSync(folder) ? (await readdir(folder)).filter((n) => n.endsWith('.deb')).sort() : [];
  const problems: Problem[] = [];
  for (const name of names) {
    const expected = known.get(name);
    const problem = (message: string) => problems.push({ subject: name, stage: 'package cache', file: join(folder, name), message });
    if (expected) {
      const sum = await sha256File(join(folder, name));
      if (!expected.has(sum)) problem(`sha256 ${sum.slice(0, 12)}… is not the ${[...expected].map((s) => `${s.slice(0, 12)}…`).join(' or ')} a build recorded`);
    } else {
      const whole = await arMembersFit(join(folder, name));
      if (whole !== true) problem(`is not a whole .deb: ${whole}`);
    }
  }
  return { count: names.length, problems };
}

/** true when the file is an `ar` archive whose members end exactly at its end, else what is wrong. */
export async function arMembersFit(path: string): Promise<true | string> {
  const file = await open(path);
  try {
    const { size } = await file.stat();
    const header = Buffer.alloc(60);
    if ((await file.read(header, 0, 8, 0)).bytesRead < 8 || header.subarray(0, 8).toString('latin1') !== '!<arch>\n') return 'no ar signature';
    let at = 8;
    for (let members = 0; at < size; members++) {
      if ((await file.read(header, 0, 60, at)).bytesRead < 60) return `member ${members + 1} header cut off at byte ${at}`;
      const length = Number(header.subarray(48, 58).toString('latin1').trim());
      if (!Number.isInteger(length) || header.subarray(58, 60).toString('latin1') !== '`\n') return `member ${members + 1} header at byte ${at} is damaged`;
      at += 60 + length + (length % 2);
    }
    return at === size || at === size + 1 ? true : `the last member ends at byte ${at}, the file at ${size} (cut off)`;
  } finally {
    await file.close();
  }
}

/** Moves corrupt entries (with what was built on them) to the trash and deletes corrupt .debs. */
export async function repair(store: Store, report: VerifyReport): Promise<{ entries: string[]; debs: string[] }> {
  const removed = new Set<string>();
  for (const id of report.corrupt) {
    if (removed.has(id) || !existsSync(store.entryDir(id))) continue;
    // What was stacked on it goes too: a build would stack it on the remade entry.
    for (const gone of await store.removeWithDependents(id)) removed.add(gone);
  }
  for (const name of report.corruptDebs) await rm(join(store.packages, name), { force: true });
  return { entries: [...removed], debs: report.corruptDebs };
}
