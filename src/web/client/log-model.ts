/**
 * The live log's data side: lines arrive one SSE event at a time (thousands a second when a build
 * replays), but the page redraws at most once a frame, and only the lines in view exist in the DOM
 * (log-view.ts). Pure: the frame scheduler is injected, so tests drive it by hand.
 */

export const LINE_HEIGHT = 18;
/** Lines drawn above and below the visible ones, so a fast scroll shows no blank rows. */
export const OVERSCAN = 40;
/** Beyond this the oldest lines are dropped (the whole log stays downloadable). */
export const MAX_LINES = 500_000;
export const MAX_MATCHES = 10_000;

export type Schedule = (callback: () => void) => void;

/** Calls `flush` once on the next frame however often `request` is called before it. */
export function frameBatcher(flush: () => void, schedule: Schedule): () => void {
  let pending = false;
  return () => {
    if (pending) return;
    pending = true;
    schedule(() => {
      pending = false;
      flush();
    });
  };
}

/**
 * A line as a terminal would leave it: what follows the last carriage return (progress meters
 * redraw themselves that way), without colour and cursor escapes, and no other control
 * characters, so every line is exactly one row high.
 */
export function cleanLine(line: string): string {
  const trimmed = line.replace(/\r+$/, '');
  const last = trimmed.lastIndexOf('\r');
  // eslint-disable-next-line no-control-regex -- escape sequences are what this removes
  return (last < 0 ? trimmed : trimmed.slice(last + 1)).replace(/\x1b\[[0-9;?]*[ -/]*[@-~]/g, '').replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '');
}

export class LogModel {
  readonly lines: string[] = [];
  private pending: string[] = [];
  /** Lines dropped from the start because of MAX_LINES. */
  dropped = 0;

  constructor(private readonly maxLines = MAX_LINES) {}

  push(line: string): void {
    // A line with a newline inside (a multi-line message) becomes several rows.
    for (const part of line.split('\n')) this.pending.push(cleanLine(part));
  }

  /** Moves the waiting lines into the log; returns how many came in. */
  flush(): number {
    const n = this.pending.length;
    if (n === 0) return 0;
    for (const line of this.pending) this.lines.push(line);
    this.pending = [];
    const over = this.lines.length - this.maxLines;
    if (over > 0) {
      this.lines.splice(0, over);
      this.dropped += over;
    }
    return n;
  }

  get waiting(): number {
    return this.pending.length;
  }

  /** The lines to draw for a viewport: [start, end), with OVERSCAN on both sides. */
  window(scrollTop: number, viewportHeight: number, lineHeight = LINE_HEIGHT): { start: number; end: number } {
    const first = Math.floor(Math.max(0, scrollTop) / lineHeight);
    const count = Math.ceil(viewportHeight / lineHeight) + 1;
    return { start: Math.max(0, first - OVERSCAN), end: Math.min(this.lines.length, first + count + OVERSCAN) };
  }

  /** Indexes of lines containing `query` (case-insensitive), at most MAX_MATCHES. */
  search(query: string): number[] {
    if (!query) return [];
    const q = query.toLowerCase();
    const out: number[] = [];
    for (let i = 0; i < this.lines.length && out.length < MAX_MATCHES; i++) if (this.lines[i]?.toLowerCase().includes(q)) out.push(i);
    return out;
  }
}

/** Whether a scroll position counts as "at the bottom" (following); a few pixels of slack for rounding. */
export function atBottom(scrollTop: number, clientHeight: number, scrollHeight: number): boolean {
  return scrollHeight - scrollTop - clientHeight <= 4;
}
