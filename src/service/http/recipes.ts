/**
 * Recipes: push (one YAML file, a blueprint, or a tar(.gz) bundle of its folder), list, versions,
 * one version (its recipe file, or the bundle), its variables for forms, and the diff of two versions.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import { byteLimit, safeName, unpackBundle } from '../bundle/unpack.js';
import { listTree } from '../bundle/canonical.js';
import type { App, ServiceContext } from '../context.js';
import { IMAGE_TYPES, isBlueprintFile } from '../../blueprint/index.js';
import { ErrorBody, PushRecipeResponse, RecipeDetail, RecipeList, RecipeName, RecipeVersionList, type RecipeVersion } from '../protocol.js';
import { blueprintOptions, translatePushedBlueprint } from '../recipes/blueprint.js';
import { checkPushedRecipe, recipeFileOf } from '../recipes/check.js';
import { diffFolders } from '../recipes/diff.js';
import { ApiError, notFound } from './errors.js';
import { recipeVariables } from '../recipes/variables.js';

/** One recipe file: YAML, or an osbuild-composer blueprint (application/toml; stored as blueprint.toml unless ?file= names a *.toml). */
export const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml', 'application/toml'];
const TOML_TYPE = 'application/toml';
export const BUNDLE_TYPES = ['application/x-tar', 'application/tar', 'application/gzip', 'application/x-gzip'];

const PushQuery = z.strictObject({
  file: z.string().max(1024).optional(),
  name: RecipeName.optional(),
  lenient: z.enum(['true', 'false']).optional().describe("a blueprint's keys that do not change what the image does are dropped with a warning instead of refused (kiln import --lenient)"),
  type: z
    .string()
    .min(1)
    .max(64)
    .optional()
    .describe(`a blueprint's image type, as composer names it (kiln import --type): ${Object.keys(IMAGE_TYPES).join(', ')}`),
});

const VersionRef = z.string().regex(/^([1-9][0-9]{0,9}|latest)$/, 'a version number or "latest"');
const VersionParams = z.object({ name: RecipeName, version: VersionRef });

export async function findVersion(ctx: ServiceContext, name: string, ref: string | number | undefined): Promise<RecipeVersion> {
  const version = ref === undefined || ref === 'latest' ? undefined : Number(ref);
  const found = await ctx.store.recipeVersion(name, version);
  if (!found) throw notFound(version === undefined ? `recipe ${name}` : `version ${version} of recipe ${name}`);
  return found;
}

export function recipeRoutes(app: App, ctx: ServiceContext): void {
  const limits = { maxUpload: ctx.maxUpload, maxUnpacked: ctx.maxUpload * 4, maxEntries: 20_000 };

  app.post(
    '/v1/recipes',
    {
      config: { auth: ['build'] },
      schema: {
        tags: ['recipes'],
        description: `Body: one recipe file (${YAML_TYPES[0]}), one osbuild-composer blueprint (${TOML_TYPE}) or a bundle of its folder (${BUNDLE_TYPES.join(', ')}). 201 for a new version, 200 when the content already was one. With lenient or type, a blueprint is translated now (as kiln import does) and the version holds it and the recipe.yaml made of it, which is the recipe file builds use.`,
        querystring: PushQuery,
        response: { 200: PushRecipeResponse, 201: PushRecipeResponse, 400: ErrorBody, 413: ErrorBody, 422: ErrorBody },
      },
    },
    async (request, reply) => {
      const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
      const length = Number(request.headers['content-length'] ?? 0);
      if (length > ctx.maxUpload) throw new ApiError(413, 'too_large', `the upload (${length} bytes) is larger than ${ctx.maxUpload} bytes (the server's --max-upload)`);
      const pushed = await ctx.bundles.withTemp(async (tmp) => {
        const dir = `${tmp}/bundle`;
        await mkdir(dir);
        let file: string;
        if (YAML_TYPES.includes(type)) {
          file = safeName(request.query.file ?? (type === TOML_TYPE ? 'blueprint.toml' : 'recipe.yaml')) ?? '';
          if (!file || file.includes('/')) throw new ApiError(400, 'invalid_request', `querystring.file: ${JSON.stringify(request.query.file)} is not a plain file name`);
          // What a file is, kiln reads from its name: a blueprint must be named *.toml.
          if (type === TOML_TYPE && !isBlueprintFile(file)) throw new ApiError(400, 'invalid_request', `querystring.file: ${JSON.stringify(file)}: a blueprint (${TOML_TYPE}) is stored under a name ending in .toml`);
          await pipeline(request.raw, byteLimit(ctx.maxUpload, 'the upload'), createWriteStream(`${dir}/${file}`, { mode: 0o644 }));
        } else if (BUNDLE_TYPES.includes(type)) {
          await unpackBundle(request.raw, dir, limits);
          file = recipeFileOf(dir, request.query.file);
        } else {
          throw new ApiError(415, 'invalid_request', `Content-Type ${type || '(none)'}: send ${YAML_TYPES[0]} for one recipe file or ${BUNDLE_TYPES[0]} / ${BUNDLE_TYPES[2]} for a bundle`);
        }
        const options = blueprintOptions(request.query, file);
        const translated = options ? translatePushedBlueprint(dir, file, options) : undefined;
        if (translated) file = translated.file;
        // A translation is checked again as what builds read: a stored version always builds as checked.
        const plan = checkPushedRecipe(dir, file);
        const name = request.query.name ?? plan.loaded.recipe.name;
        if (!RecipeName.safeParse(name).success) {
          throw new ApiError(422, 'invalid_recipe', `the recipe's name ${JSON.stringify(name)} cannot name a service recipe (lower-case letters, digits, ".", "_", "-"); push with ?name=`);
        }
        const packed = await ctx.bundles.store(dir);
        const added = await ctx.store.addRecipeVersion({ name, hash: packed.sha256, file, files: packed.files, size: packed.size });
        return { ...added, warnings: translated?.warnings ?? [] };
      });
      request.log.info({ recipe: pushed.version.name, version: pushed.version.version, created: pushed.created, warnings: pushed.warnings.length }, 'recipe pushed');
      return reply.code(pushed.created ? 201 : 200).send({ ...pushed.version, created: pushed.created, ...(pushed.warnings.length ? { warnings: pushed.warnings } : {}) });
    },
  );

  app.get('/v1/recipes', { config: { auth: ['read'] }, schema: { tags: ['recipes'], response: { 200: RecipeList } } }, async () => ({ recipes: await ctx.store.listRecipes() }));

  app.get(
    '/v1/recipes/:name',
    { config: { auth: ['read'] }, schema: { tags: ['recipes'], params: z.object({ name: RecipeName }), response: { 200: RecipeVersionList, 404: ErrorBody } } },
    async (request) => {
      const versions = await ctx.store.recipeVersions(request.params.name);
      if (versions.length === 0) throw notFound(`recipe ${request.params.name}`);
      return { name: request.params.name, versions };
    },
  );

  app.get(
    '/v1/recipes/:name/versions/:version',
    {
      // The worker fetches the bundle of its job here with its own token.
      config: { auth: ['read', 'worker'] },
      schema: {
        tags: ['recipes'],
        description: 'The recipe file as text (text/yaml), or with ?format=bundle the canonical tar of its folder.',
        params: VersionParams,
        querystring: z.strictObject({ format: z.enum(['yaml', 'bundle']).default('yaml') }),
      },
    },
    async (request, reply) => {
      const version = await findVersion(ctx, request.params.name, request.params.version);
      if (request.query.format === 'bundle') {
        return reply
          .type('application/x-tar')
          .header('ETag', `"${version.hash}"`)
          .header('Content-Disposition', `attachment; filename="${version.name}-${version.version}.tar"`)
          .send(createReadStream(ctx.bundles.path(version.hash)));
      }
      const text = await ctx.bundles.withTemp(async (dir) => {
        await ctx.bundles.extract(version.hash, dir);
        return readFile(`${dir}/${version.file}`, 'utf8');
      });
      return reply.type(`${version.file.endsWith('.toml') ? TOML_TYPE : 'text/yaml'}; charset=utf-8`).send(text);
    },
  );

  app.get(
    '/v1/recipes/:name/versions/:version/detail',
    { config: { auth: ['read'] }, schema: { tags: ['recipes'], params: VersionParams, response: { 200: RecipeDetail, 404: ErrorBody } } },
    async (request) => {
      const version = await findVersion(ctx, request.params.name, request.params.version);
      return ctx.bundles.withTemp(async (dir) => {
        await ctx.bundles.extract(version.hash, dir);
        const plan = checkPushedRecipe(dir, version.file);
        const paths = (await listTree(dir)).filter((i) => i.kind !== 'dir').map((i) => i.path);
        return { ...version, variables: recipeVariables(plan.loaded), arch: plan.loaded.recipe.arch, paths };
      });
    },
  );

  app.get(
    '/v1/recipes/:name/diff',
    {
      config: { auth: ['read'] },
      schema: {
        tags: ['recipes'],
        description: 'Unified diff (text/plain) of every file between two versions; empty when they are the same.',
        params: z.object({ name: RecipeName }),
        querystring: z.strictObject({ from: VersionRef, to: VersionRef.default('latest') }),
      },
    },
    async (request, reply) => {
      const from = await findVersion(ctx, request.params.name, request.query.from);
      const to = await findVersion(ctx, request.params.name, request.query.to);
      const text = await ctx.bundles.withTemp(async (dir) => {
        await mkdir(`${dir}/a`);
        await mkdir(`${dir}/b`);
        await ctx.bundles.extract(from.hash, `${dir}/a`);
        await ctx.bundles.extract(to.hash, `${dir}/b`);
        return diffFolders(dir);
      });
      return reply.type('text/plain; charset=utf-8').send(text);
    },
  );
}
