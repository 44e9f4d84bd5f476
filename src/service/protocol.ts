/**
 * The build service's public contract: every request and response body as a zod schema. The server
 * validates with these, /openapi.json is generated from them, and the worker, `kiln remote` and the
 * web interface read the same types, so the four can never disagree about a field.
 */
import { z } from 'zod';

export const SCOPES = ['read', 'build', 'admin', 'worker'] as const;
export const Scope = z.enum(SCOPES);
export type Scope = z.infer<typeof Scope>;

export const BUILD_STATES = ['queued', 'running', 'succeeded', 'failed', 'canceled'] as const;
export const BuildState = z.enum(BUILD_STATES);
export type BuildState = z.infer<typeof BuildState>;
export const FINAL_STATES: readonly BuildState[] = ['succeeded', 'failed', 'canceled'];

/** An artifact upload's sha256 (hex), which the server checks before it lists the file. */
export const SHA256_HEADER = 'x-kiln-sha256';
/**
 * Instead of a body: the path of the file on the server's own machine. Only the in-process worker
 * of `kiln serve` may send it, and only for files in its folder for the lease it holds.
 */
export const LOCAL_FILE_HEADER = 'x-kiln-local-file';

export const WORKER_STATES = ['idle', 'busy', 'draining', 'lost'] as const;
export const WorkerState = z.enum(WORKER_STATES);
export type WorkerState = z.infer<typeof WorkerState>;

/** Identifiers the server makes: ULID-like, sortable by creation. */
export const Id = z.string().regex(/^[0-9a-z]{10,40}$/, 'an id as the server returned it');
export const RecipeName = z.string().regex(/^[a-z0-9][a-z0-9._-]*$/).max(128);
export const VarName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).max(128);
export const Arch = z.enum(['amd64', 'arm64', 'armhf', 'i386']);
const Time = z.string().describe('ISO 8601, UTC');
const Sha256 = z.string().regex(/^[0-9a-f]{64}$/);

// ---------------------------------------------------------------------------------------------
// Errors: every 4xx/5xx body. `diagnostics` carries the CLI's positioned recipe messages (422).

export const Diagnostic = z.object({
  file: z.string(),
  line: z.number().int().optional(),
  col: z.number().int().optional(),
  text: z.string().optional(),
  message: z.string(),
});
export const ErrorBody = z.object({
  error: z.object({
    /** Stable, machine-readable: unauthorized, forbidden, not_found, invalid_request, invalid_recipe, invalid_bundle, too_large, conflict, lease_lost, internal. */
    code: z.string(),
    /** Words for a person: what is wrong and what to do. */
    message: z.string(),
    diagnostics: z.array(Diagnostic).optional(),
    requestId: z.string().optional(),
  }),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

// ---------------------------------------------------------------------------------------------
// Recipes. POST /v1/recipes takes the raw body: `application/yaml` (one recipe file),
// `application/toml` (a blueprint) or `application/x-tar` / `application/gzip` (a bundle of the
// recipe's folder; `?file=` names the recipe inside it, default `recipe.yaml`, else the only
// top-level *.yaml, else the only *.toml). `?lenient=true` and `?type=` translate a blueprint at
// push time (recipes/blueprint.ts). Every push that changes the content makes a new version; pushing
// identical content returns the existing one.

export const RecipeVersion = z.object({
  name: RecipeName,
  version: z.number().int().positive(),
  /** sha256 of the bundle's canonical form (sorted paths, modes, contents). */
  hash: Sha256,
  /** The recipe file inside the bundle. */
  file: z.string(),
  files: z.number().int(),
  size: z.number().int(),
  createdAt: Time,
});
export type RecipeVersion = z.infer<typeof RecipeVersion>;
export const PushRecipeResponse = RecipeVersion.extend({
  created: z.boolean().describe('false when this content was already a version'),
  warnings: z.array(Diagnostic).optional().describe('what ?lenient=true dropped from a blueprint, each at its line (kiln import prints these)'),
});
export const RecipeSummary = z.object({ name: RecipeName, latest: z.number().int(), versions: z.number().int(), updatedAt: Time });
export const RecipeList = z.object({ recipes: z.array(RecipeSummary) });
export const RecipeVersionList = z.object({ name: RecipeName, versions: z.array(RecipeVersion) });

/** A recipe's and its layers' variables, for forms (the web interface's new-build page). */
export const RecipeVariable = z.object({
  name: VarName,
  default: z.string().optional(),
  pattern: z.string().optional(),
  description: z.string().optional(),
  /** recipe, or the layer that declares it. */
  from: z.string(),
});
export const RecipeDetail = RecipeVersion.extend({
  variables: z.array(RecipeVariable),
  arch: Arch,
  paths: z.array(z.string()).describe('every file in the bundle'),
});

// ---------------------------------------------------------------------------------------------
// Builds.

export const CreateBuild = z.strictObject({
  recipe: RecipeName,
  /** Default: the latest version. */
  version: z.number().int().positive().optional(),
  set: z.record(VarName, z.string().max(65536)).optional(),
  arch: Arch.optional(),
});
export type CreateBuild = z.infer<typeof CreateBuild>;

export const StageProgress = z.object({
  name: z.string(),
  state: z.enum(['pending', 'running', 'done', 'failed']),
  cached: z.boolean().optional(),
  seconds: z.number().optional(),
});
export const Build = z.object({
  id: Id,
  recipe: RecipeName,
  version: z.number().int(),
  arch: Arch,
  set: z.record(z.string(), z.string()),
  state: BuildState,
  createdAt: Time,
  startedAt: Time.optional(),
  finishedAt: Time.optional(),
  /** The worker running or that ran it. */
  worker: z.string().optional(),
  /** 0 on the first run; raised each time a lost worker's job is requeued (at most 2). */
  attempt: z.number().int(),
  /** Why it failed or was canceled, in words. */
  error: z.string().optional(),
  /** The build this one retries. */
  retryOf: Id.optional(),
  stages: z.array(StageProgress),
});
export type Build = z.infer<typeof Build>;
export const BuildQuery = z.strictObject({
  state: BuildState.optional(),
  recipe: RecipeName.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  /** Opaque; `next` of the previous page. */
  cursor: z.string().max(200).optional(),
});
export const BuildList = z.object({ builds: z.array(Build), next: z.string().optional() });

export const Artifact = z.object({ name: z.string(), size: z.number().int(), sha256: Sha256, createdAt: Time });
export type Artifact = z.infer<typeof Artifact>;
export const ArtifactList = z.object({ artifacts: z.array(Artifact) });

/**
 * What GET /v1/builds/:id/events streams (Server-Sent Events; `id:` is `seq`, so `Last-Event-ID`
 * resumes exactly after the last event seen). The `event:` field is `type`, `data:` this JSON.
 */
export const BuildStreamEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('state'), seq: z.number().int(), time: Time, state: BuildState, worker: z.string().optional(), error: z.string().optional() }),
  z.object({ type: z.literal('stages'), seq: z.number().int(), time: Time, stages: z.array(z.object({ name: z.string(), summary: z.string() })) }),
  z.object({ type: z.literal('stage-start'), seq: z.number().int(), time: Time, stage: z.string(), index: z.number().int(), total: z.number().int() }),
  z.object({ type: z.literal('stage-end'), seq: z.number().int(), time: Time, stage: z.string(), cached: z.boolean(), seconds: z.number() }),
  z.object({ type: z.literal('stage-fail'), seq: z.number().int(), time: Time, stage: z.string(), seconds: z.number(), message: z.string() }),
  z.object({ type: z.literal('log'), seq: z.number().int(), time: Time, stage: z.string().optional(), line: z.string() }),
  z.object({ type: z.literal('artifact'), seq: z.number().int(), time: Time, artifact: Artifact }),
]);
export type BuildStreamEvent = z.infer<typeof BuildStreamEvent>;

// ---------------------------------------------------------------------------------------------
// Workers. A worker authenticates with a `worker`-scoped bearer token; each lease adds its own
// job token (header `X-Kiln-Job-Token`), so a worker that lost its lease cannot report or upload.

export const RegisterWorker = z.strictObject({
  /** Stable per machine (default: hostname); re-registering a name requeues that worker's old jobs at once. */
  name: z.string().min(1).max(128),
  arches: z.array(Arch).min(1),
  concurrency: z.number().int().min(1).max(64),
  version: z.string().max(64),
});
export const WorkerInfo = z.object({
  id: Id,
  name: z.string(),
  arches: z.array(Arch),
  concurrency: z.number().int(),
  state: WorkerState,
  builds: z.array(Id).describe('builds it is running now'),
  lastHeartbeat: Time,
  registeredAt: Time,
  version: z.string(),
});
export const WorkerList = z.object({ workers: z.array(WorkerInfo) });

/** POST /v1/workers/:id/heartbeat; the answer lists the leases whose builds were canceled. */
export const WorkerHeartbeat = z.strictObject({ state: z.enum(['idle', 'busy', 'draining']), leases: z.array(Id) });
export const HeartbeatAnswer = z.object({ cancel: z.array(Id), lost: z.array(Id).describe('leases the server no longer honours: stop them') });

/** POST /v1/workers/:id/claim?wait=SECONDS (long poll, at most 60): 200 with a job, or 204. */
export const Job = z.object({
  lease: Id,
  jobToken: z.string(),
  build: Build,
  /** GET this (with the worker token) for the recipe bundle as tar. */
  bundleUrl: z.string(),
  /** The recipe file inside the bundle. */
  file: z.string(),
  heartbeatSeconds: z.number(),
});
export type Job = z.infer<typeof Job>;

/**
 * POST /v1/jobs/:lease/events: the worker's events in order, numbered by the worker from 1 per
 * lease; the server ignores numbers it already has, so a resend after a timeout never duplicates.
 */
export const WorkerEvent = z.discriminatedUnion('type', [
  z.object({ n: z.number().int().positive(), type: z.literal('stages'), time: Time, stages: z.array(z.object({ name: z.string(), summary: z.string() })) }),
  z.object({ n: z.number().int().positive(), type: z.literal('stage-start'), time: Time, stage: z.string(), index: z.number().int(), total: z.number().int() }),
  z.object({ n: z.number().int().positive(), type: z.literal('stage-end'), time: Time, stage: z.string(), cached: z.boolean(), seconds: z.number() }),
  z.object({ n: z.number().int().positive(), type: z.literal('stage-fail'), time: Time, stage: z.string(), seconds: z.number(), message: z.string() }),
  z.object({ n: z.number().int().positive(), type: z.literal('log'), time: Time, stage: z.string().optional(), line: z.string().max(65536) }),
]);
export type WorkerEvent = z.infer<typeof WorkerEvent>;
export const WorkerEvents = z.strictObject({ events: z.array(WorkerEvent).max(5000) });
/** The answer to POST /v1/jobs/:lease/events: how many were new, and whether the build was canceled (stop it). */
export const JobEventsAnswer = z.object({ stored: z.number().int(), cancel: z.boolean() });

/**
 * PUT /v1/jobs/:lease/artifacts/:name, body the file's bytes (streamed), header
 * `X-Kiln-Sha256`: the server hashes what it receives and lists the artifact only when they match.
 */
export const FinishJob = z.strictObject({ ok: z.boolean(), error: z.string().max(65536).optional() });

// ---------------------------------------------------------------------------------------------
// Tokens (admin).

export const CreateToken = z.strictObject({ name: z.string().min(1).max(128), scopes: z.array(Scope).min(1) });
export const TokenInfo = z.object({ id: Id, name: z.string(), scopes: z.array(Scope), createdAt: Time, lastUsedAt: Time.optional(), revoked: z.boolean() });
export const CreatedToken = TokenInfo.extend({ token: z.string().describe('shown once; only its hash is stored') });
export const TokenList = z.object({ tokens: z.array(TokenInfo) });
