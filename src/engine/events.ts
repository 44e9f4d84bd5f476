/** What a build tells the outside world; the CLI renders these, the service will stream them. */
export type BuildEvent =
  | { type: 'build-start'; name: string; stages: { name: string; id: string; summary: string }[]; time: string }
  | { type: 'stage-start'; stage: string; index: number; total: number; time: string }
  | { type: 'output'; stage: string; line: string; time: string }
  | { type: 'stage-end'; stage: string; seconds: number; cached: boolean; time: string }
  | { type: 'stage-fail'; stage: string; seconds: number; message: string; time: string }
  | { type: 'build-end'; ok: boolean; seconds: number; outputDir?: string; time: string };

/** An event without its timestamp: the emitter adds it. */
export type BuildEventInput = BuildEvent extends infer E ? (E extends BuildEvent ? Omit<E, 'time'> : never) : never;

export type Listener = (event: BuildEvent) => void;
