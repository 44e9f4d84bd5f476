/**
 * What the worker logs through: a pino logger fits (the server passes its own), and `kiln worker`
 * passes a plain line writer.
 */
export interface WorkerLog {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

/** "time level message key=value ..." lines, for a terminal or the journal. */
export function lineLog(write: (line: string) => void): WorkerLog {
  const line = (level: string) => (fields: Record<string, unknown>, message: string) => {
    const extra = Object.entries(fields)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${typeof v === 'string' && !/\s/.test(v) ? v : JSON.stringify(v)}`)
      .join(' ');
    write(`${new Date().toISOString()} ${level} ${message}${extra ? ` ${extra}` : ''}\n`);
  };
  return { info: line('info'), warn: line('warn'), error: line('error') };
}
