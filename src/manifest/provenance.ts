/**
 * Who asked for what: every package the recipe and its layers name, and every operation (file,
 * user, service, hook) with the layer it came from, for the build record. Not part of any id.
 */
import type { LoadedRecipe } from '../recipe/index.js';
import { HOOK_PHASES, type HookPhase } from '../recipe/index.js';
import type { OptionsOf } from '../stages/registry.js';

/** One thing the build does for the recipe or a layer. */
export interface Operation {
  stage: string;
  op: 'copy-folder' | 'write-file' | 'create-user' | 'create-group' | 'set-root-password' | 'enable-service' | 'disable-service' | 'mask-service' | 'make-directory' | 'add-apt-source' | 'run-hook';
  target: string;
  /** Who asked: "recipe", layer names, or "kiln" for what a bootable image needs. */
  layers: string[];
}

export interface Provenance {
  packages: Record<string, string[]>;
  operations: Operation[];
}

/** A hook script as the hook stages take it (their schema, in src/stages/hook-scripts.ts). */
export type HookScript = OptionsOf<'customize-hooks'>['scripts'][number];

export function provenanceOf(loaded: LoadedRecipe, hooks: Record<HookPhase, HookScript[]>, implicit: string[]): Provenance {
  const r = loaded.recipe;
  const origin = (path: (string | number)[]) => loaded.origins.of(path).name;
  const operations: Operation[] = [];
  const did = (stage: string, op: Operation['op'], target: string, layers: string[]) => operations.push({ stage, op, target, layers });
  if (r.root_password !== undefined || r.root_password_hash !== undefined) {
    did('users', 'set-root-password', 'root', [origin([r.root_password === undefined ? 'root_password_hash' : 'root_password'])]);
  }
  r.groups.forEach((g, i) => did('users', 'create-group', g.name, [origin(['groups', i])]));
  r.users.forEach((u, i) => did('users', 'create-user', u.name, [origin(['users', i])]));
  r.directories.forEach((d, i) => did('directories', 'make-directory', d.path, [origin(['directories', i])]));
  r.apt.sources.forEach((s, i) => did('bootstrap', 'add-apt-source', s.name, [origin(['apt', 'sources', i])]));
  r.files.forEach((f, i) => did('files', f.src?.endsWith('/') ? 'copy-folder' : 'write-file', f.src === undefined ? f.dst : `${f.src} -> ${f.dst}`, [origin(['files', i])]));
  for (const action of ['enable', 'disable', 'mask'] as const) {
    r.services[action].forEach((unit) => did('services', `${action}-service`, unit, loaded.origins.askedFor(`services.${action}`, unit)));
  }
  for (const phase of HOOK_PHASES) {
    for (const script of hooks[phase]) did(phase === 'setup' ? 'bootstrap' : `${phase}-hooks`, 'run-hook', script.path, [script.from]);
  }
  const packages: Record<string, string[]> = {};
  for (const name of implicit) packages[name] = ['kiln'];
  for (const name of r.packages.map((p) => p.replace(/[:=].*$/, ''))) packages[name] = [...(packages[name] ?? []), ...loaded.origins.askedFor('packages', name)];
  return { packages, operations };
}
