/** Tables and short forms for `kiln remote`'s listings. Pure. */
import type { z } from 'zod';
import type { Artifact, Build, WorkerInfo } from '../service/protocol.js';

/** Columns padded to their widest cell; the last column is not padded. */
export function table(header: string[], rows: string[][]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ').trimEnd()).join('\n') + '\n';
}

export function duration(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m} min ${Math.round(seconds - m * 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function size(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** How long ago, from `now`. */
export function age(time: string, now: number): string {
  return `${duration(Math.max(0, (now - Date.parse(time)) / 1000))} ago`;
}

function buildSeconds(b: Build, now: number): number | undefined {
  if (!b.startedAt) return undefined;
  return ((b.finishedAt ? Date.parse(b.finishedAt) : now) - Date.parse(b.startedAt)) / 1000;
}

export function buildsTable(builds: Build[], now: number): string {
  if (!builds.length) return 'no builds\n';
  return table(
    ['ID', 'RECIPE', 'VERSION', 'ARCH', 'STATE', 'CREATED', 'TIME', 'WORKER'],
    builds.map((b) => {
      const s = buildSeconds(b, now);
      return [b.id, b.recipe, String(b.version), b.arch, b.state, b.createdAt.slice(0, 19).replace('T', ' '), s === undefined ? '-' : duration(s), b.worker ?? '-'];
    }),
  );
}

export function buildText(b: Build, artifacts: Artifact[], now: number): string {
  const s = buildSeconds(b, now);
  const lines = [
    `build     ${b.id}`,
    `recipe    ${b.recipe} version ${b.version} (${b.arch})`,
    `state     ${b.state}${b.error ? `: ${b.error}` : ''}`,
    `created   ${b.createdAt}`,
    ...(b.startedAt ? [`started   ${b.startedAt}`] : []),
    ...(b.finishedAt ? [`finished  ${b.finishedAt}`] : []),
    ...(s === undefined ? [] : [`time      ${duration(s)}`]),
    ...(b.worker ? [`worker    ${b.worker}`] : []),
    ...(b.attempt ? [`attempt   ${b.attempt + 1}`] : []),
    ...(b.retryOf ? [`retry of  ${b.retryOf}`] : []),
    ...Object.entries(b.set).map(([k, v], i) => `${i ? '         ' : 'set      '} ${k}=${v}`),
  ];
  let text = `${lines.join('\n')}\n`;
  if (b.stages.length) {
    text += `\n${table(
      ['STAGE', 'STATE', 'TIME'],
      b.stages.map((st) => [st.name, st.cached ? 'cached' : st.state, st.seconds === undefined ? '-' : duration(st.seconds)]),
    )}`;
  }
  if (artifacts.length) text += `\n${table(['ARTIFACT', 'SIZE', 'SHA256'], artifacts.map((a) => [a.name, size(a.size), a.sha256]))}`;
  return text;
}

export function workersTable(workers: z.infer<typeof WorkerInfo>[], now: number): string {
  if (!workers.length) return 'no workers\n';
  return table(
    ['NAME', 'ID', 'ARCHES', 'STATE', 'BUILDS', 'LAST HEARTBEAT', 'VERSION'],
    workers.map((w) => [w.name, w.id, w.arches.join(','), w.state, w.builds.length ? w.builds.join(',') : '-', age(w.lastHeartbeat, now), w.version]),
  );
}
