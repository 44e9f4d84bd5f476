/** Numbers, sizes and times as people read them. Pure. */

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

/** 4.2 s, 3 min 05 s, 1 h 02 min. */
export function formatSeconds(s: number): string {
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(Math.round(s % 60)).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

/** Seconds from `start` to `end` (or to `now` while it runs); undefined before it starts. */
export function durationOf(start: string | undefined, end: string | undefined, now: number): number | undefined {
  if (!start) return undefined;
  const to = end ? Date.parse(end) : now;
  return Math.max(0, (to - Date.parse(start)) / 1000);
}

/** "12 s ago", "3 min ago", else the local date and time. */
export function formatAgo(time: string, now: number): string {
  const s = Math.round((now - Date.parse(time)) / 1000);
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  return new Date(time).toLocaleString();
}
