/** Recipe pushes (YAML, bundles), refusals, versions, diff and detail, on one store engine. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { importBlueprint } from '../../blueprint/index.js';
import { HELLO, makeTar, pushYaml, withService, type Harness, type OpenStore, type TarEntry, errorOf, type Loose } from '../test-support/harness.js';

async function pushTar(h: Harness, body: Buffer, type = 'application/x-tar', query = '') {
  return h.app.inject({ method: 'POST', url: `/v1/recipes${query}`, headers: { ...h.auth(h.admin), 'content-type': type }, payload: body });
}

/** Nothing of a refused push may remain: no version, no bundle file, no temporary folder. */
async function nothingStored(h: Harness): Promise<void> {
  const list = await h.app.inject({ method: 'GET', url: '/v1/recipes', headers: h.auth(h.admin) });
  assert.deepEqual(list.json<Loose>().recipes, []);
  assert.deepEqual(await readdir(`${h.dataDir}/artifacts/recipes`), []);
  assert.deepEqual(await readdir(`${h.dataDir}/tmp`), []);
}

const HOSTILE: { what: string; entries: TarEntry[]; message: RegExp }[] = [
  { what: 'a ../ path', entries: [{ name: 'recipe.yaml', body: HELLO }, { name: '../evil', body: 'x' }], message: /"\.\.\/evil" leaves the bundle/ },
  { what: 'an absolute path', entries: [{ name: 'recipe.yaml', body: HELLO }, { name: '/etc/evil', body: 'x' }], message: /"\/etc\/evil" is an absolute path/ },
  { what: 'a link out', entries: [{ name: 'recipe.yaml', body: HELLO }, { name: 'out', type: 'symlink', linkname: '../../etc' }], message: /"out" is a link to "\.\.\/\.\.\/etc", which leads out/ },
  { what: 'an absolute link', entries: [{ name: 'recipe.yaml', body: HELLO }, { name: 'passwd', type: 'symlink', linkname: '/etc/passwd' }], message: /"passwd" is a link to "\/etc\/passwd"/ },
  {
    what: 'a chain of links out',
    entries: [{ name: 'recipe.yaml', body: HELLO }, { name: 'a', type: 'symlink', linkname: '.' }, { name: 'b', type: 'symlink', linkname: 'a/..' }],
    message: /"b" is a link to "a\/\.\.", which leads out/,
  },
  { what: 'a file through a link', entries: [{ name: 'recipe.yaml', body: HELLO }, { name: 'd', type: 'symlink', linkname: '.' }, { name: 'd/x', body: 'x' }], message: /"d\/x" is inside a symbolic link/ },
  { what: 'a hard link out', entries: [{ name: 'recipe.yaml', body: HELLO }, { name: 'h', type: 'link', linkname: '/etc/shadow' }], message: /"h" is a hard link to "\/etc\/shadow"/ },
  { what: 'a device', entries: [{ name: 'recipe.yaml', body: HELLO }, { name: 'null', type: 'character-device' }], message: /"null" is a character-device/ },
  { what: 'a FIFO', entries: [{ name: 'recipe.yaml', body: HELLO }, { name: 'pipe', type: 'fifo' }], message: /"pipe" is a fifo/ },
  { what: 'a setuid file', entries: [{ name: 'recipe.yaml', body: HELLO }, { name: 'su', body: '#!/bin/sh\n', mode: 0o4755 }], message: /"su" has the setuid or setgid bit/ },
];

export function recipeSuite(engine: string, open: () => OpenStore): void {
  void describe(`service recipes (${engine})`, () => {
    void it('stores a YAML push as version 1, the same content again as that version, a change as version 2', () =>
      withService(open(), async (h) => {
        const first = await pushYaml(h, HELLO);
        assert.equal(first.status, 201);
        assert.equal(first.body.name, 'hello');
        assert.equal(first.body.version, 1);
        assert.equal(first.body.created, true);
        assert.equal(first.body.file, 'recipe.yaml');
        const again = await pushYaml(h, HELLO);
        assert.equal(again.status, 200);
        assert.equal(again.body.version, 1);
        assert.equal(again.body.created, false);
        const changed = await pushYaml(h, HELLO.replace('[tar]', '[tar, oci]'));
        assert.equal(changed.body.version, 2);
        const versions = await h.app.inject({ method: 'GET', url: '/v1/recipes/hello', headers: h.auth(h.admin) });
        assert.deepEqual(versions.json<{ versions: { version: number }[] }>().versions.map((v) => v.version), [1, 2]);
        const list = await h.app.inject({ method: 'GET', url: '/v1/recipes', headers: h.auth(h.admin) });
        assert.deepEqual(list.json<{ recipes: { name: string; latest: number; versions: number }[] }>().recipes.map((r) => [r.name, r.latest, r.versions]), [['hello', 2, 2]]);
        const text = await h.app.inject({ method: 'GET', url: '/v1/recipes/hello/versions/1', headers: h.auth(h.admin) });
        assert.equal(text.body, HELLO);
        assert.match(String(text.headers['content-type']), /^text\/yaml/);
        const bundle = await h.app.inject({ method: 'GET', url: '/v1/recipes/hello/versions/latest?format=bundle', headers: h.auth(await h.token(['worker'])) });
        assert.equal(bundle.statusCode, 200);
        assert.equal(createHash('sha256').update(bundle.rawPayload).digest('hex'), changed.body.hash, 'the bundle is what its hash names');
        const diff = await h.app.inject({ method: 'GET', url: '/v1/recipes/hello/diff?from=1&to=2', headers: h.auth(h.admin) });
        assert.equal(diff.statusCode, 200);
        assert.match(diff.body, /^--- a\/recipe\.yaml$/m);
        assert.match(diff.body, /^-outputs: \[tar\]$/m);
        assert.match(diff.body, /^\+outputs: \[tar, oci\]$/m);
        const same = await h.app.inject({ method: 'GET', url: '/v1/recipes/hello/diff?from=2&to=latest', headers: h.auth(h.admin) });
        assert.equal(same.body, '');
        const missing = await h.app.inject({ method: 'GET', url: '/v1/recipes/hello/versions/9', headers: h.auth(h.admin) });
        assert.equal(missing.statusCode, 404);
        assert.equal((await h.app.inject({ method: 'GET', url: '/v1/recipes/nope', headers: h.auth(h.admin) })).statusCode, 404);
      }));

    void it('stores a tar.gz bundle under a stable hash and describes its variables and files', () =>
      withService(open(), async (h) => {
        const recipe = `${HELLO}variables:\n  GREETING: hi\nfiles:\n  - {dst: /etc/greeting, src: greeting.txt}\n`;
        const entries: TarEntry[] = [
          { name: './', type: 'directory' },
          { name: './recipe.yaml', body: recipe },
          { name: './greeting.txt', body: 'hello\n' },
          { name: './link', type: 'symlink', linkname: 'greeting.txt' },
          { name: './copy', type: 'link', linkname: './greeting.txt' },
        ];
        const pushed = await pushTar(h, await makeTar(entries, true), 'application/gzip');
        assert.equal(pushed.statusCode, 201, pushed.body);
        // The same files in another order and another compression are the same version.
        const [, recipeEntry, greeting, link, copy] = entries as [TarEntry, TarEntry, TarEntry, TarEntry, TarEntry];
        const again = await pushTar(h, await makeTar([link, greeting, copy, recipeEntry]));
        assert.equal(again.statusCode, 200, again.body);
        assert.equal(again.json<Loose>().hash, pushed.json<Loose>().hash);
        const detail = await h.app.inject({ method: 'GET', url: '/v1/recipes/hello/versions/1/detail', headers: h.auth(h.admin) });
        assert.equal(detail.statusCode, 200, detail.body);
        assert.deepEqual(detail.json<Loose>().paths, ['copy', 'greeting.txt', 'link', 'recipe.yaml'], 'a hard link is stored as a copy');
        assert.deepEqual(detail.json<Loose>().variables, [{ name: 'GREETING', default: 'hi', from: 'recipe' }]);
        assert.equal(detail.json<Loose>().arch, 'amd64');
      }));

    for (const { what, entries, message } of HOSTILE) {
      void it(`refuses a bundle with ${what} (422 invalid_bundle naming the entry), storing nothing`, () =>
        withService(open(), async (h) => {
          const res = await pushTar(h, await makeTar(entries));
          assert.equal(res.statusCode, 422, res.body);
          assert.equal(errorOf(res).code, 'invalid_bundle');
          assert.match(errorOf(res).message, message);
          await nothingStored(h);
        }));
    }

    void it('refuses a body over --max-upload with 413 too_large, storing nothing', () =>
      withService(
        open(),
        async (h) => {
          const big = await makeTar([{ name: 'recipe.yaml', body: HELLO }, { name: 'big', body: 'x'.repeat(64 * 1024) }]);
          const res = await pushTar(h, big);
          assert.equal(res.statusCode, 413);
          assert.equal(errorOf(res).code, 'too_large');
          // A gzip that inflates past the limit is caught while unpacking, whatever Content-Length said.
          const bomb = await pushTar(h, await makeTar([{ name: 'recipe.yaml', body: HELLO }, { name: 'zeros', body: '\0'.repeat(512 * 1024) }], true), 'application/gzip');
          assert.equal(bomb.statusCode, 413, bomb.body);
          await nothingStored(h);
        },
        { maxUpload: 32 * 1024 },
      ));

    void it('takes a recipe whose variable has no default; its builds must set it', () =>
      withService(open(), async (h) => {
        const pushed = await pushYaml(h, 'name: needs\nkernel: {package: none}\nbootloader: none\noutputs: [tar]\nhostname: "${HOST}"\n');
        assert.equal(pushed.status, 201, JSON.stringify(pushed.body));
        const unset = await h.app.inject({ method: 'POST', url: '/v1/builds', headers: h.auth(h.admin), payload: { recipe: 'needs' } });
        assert.equal(unset.statusCode, 422);
        assert.match(errorOf(unset).message, /variable HOST is not set/);
        const set = await h.app.inject({ method: 'POST', url: '/v1/builds', headers: h.auth(h.admin), payload: { recipe: 'needs', set: { HOST: 'box' } } });
        assert.equal(set.statusCode, 202, set.body);
        const bad = await pushYaml(h, 'name: needs\nkernel: {package: none}\nbootloader: none\noutputs: [tar]\nhostname: "${HOST}"\nbogus: 1\n');
        assert.equal(bad.status, 422, 'another problem beside the unset variable still refuses the push');
      }));

    void it('refuses an OSTree recipe that names a repository of its own (a path on the worker), and takes it without one', () =>
      withService(open(), async (h) => {
        const recipe = 'name: edge\nostree:\n  ref: os/edge\n  repo: /srv/repo\noutputs: [ostree-repo]\n';
        const refused = await h.app.inject({ method: 'POST', url: '/v1/recipes', headers: { ...h.auth(h.admin), 'content-type': 'application/yaml' }, payload: recipe });
        assert.equal(refused.statusCode, 422);
        const [diagnostic] = errorOf(refused).diagnostics ?? [];
        assert.equal(diagnostic?.line, 4);
        assert.match(diagnostic?.message ?? '', /^ostree\.repo: a build on the service keeps its commit as the ostree-repo artifact \(edge\.ostree\.tar\)/);
        assert.equal((await pushYaml(h, recipe.replace('  repo: /srv/repo\n', ''))).status, 201);
      }));

    void it('takes an osbuild-composer blueprint (application/toml, or the only *.toml of a bundle) and refuses one kiln cannot translate', () =>
      withService(open(), async (h) => {
        const blueprint = 'name = "From Composer"\n[customizations]\nhostname = "bp"\n';
        const push = (text: string) => h.app.inject({ method: 'POST', url: '/v1/recipes', headers: { ...h.auth(h.admin), 'content-type': 'application/toml' }, payload: text });
        const pushed = await push(blueprint);
        assert.equal(pushed.statusCode, 201, pushed.body);
        assert.equal(pushed.json<Loose>().name, 'from-composer');
        assert.equal(pushed.json<Loose>().file, 'blueprint.toml');
        const text = await h.app.inject({ method: 'GET', url: '/v1/recipes/from-composer/versions/1', headers: h.auth(h.admin) });
        assert.equal(text.body, blueprint);
        assert.match(String(text.headers['content-type']), /^application\/toml/);
        const bundled = await pushTar(h, await makeTar([{ name: 'image.toml', body: blueprint.replace('bp"', 'bundled"') }]));
        assert.equal(bundled.statusCode, 201, bundled.body);
        assert.equal(bundled.json<Loose>().file, 'image.toml');
        const refused = await push('name = "x"\nmodules = [{ name = "nodejs" }]\n');
        assert.equal(refused.statusCode, 422);
        assert.deepEqual(errorOf(refused).diagnostics, [
          { file: 'blueprint.toml', line: 2, col: 1, text: 'modules = [{ name = "nodejs" }]', message: 'modules: DNF modules have no Debian equivalent (list the packages you need in [[packages]])' },
        ]);
        const misnamed = await h.app.inject({ method: 'POST', url: '/v1/recipes?file=bp.yaml', headers: { ...h.auth(h.admin), 'content-type': 'application/toml' }, payload: blueprint });
        assert.equal(misnamed.statusCode, 400);
      }));

    void it('translates a blueprint pushed with lenient or type as kiln import does, and stores it with that recipe.yaml', () =>
      withService(open(), async (h) => {
        const blueprint = 'name = "Lenient"\n[customizations]\nhostname = "bp"\ninstallation_device = "/dev/sda"\n';
        const push = (text: string, query = '') => h.app.inject({ method: 'POST', url: `/v1/recipes${query}`, headers: { ...h.auth(h.admin), 'content-type': 'application/toml' }, payload: text });
        const strict = await push(blueprint);
        assert.equal(strict.statusCode, 422, 'without lenient the push is refused as before');
        assert.match(errorOf(strict).diagnostics?.[0]?.message ?? '', /\(--lenient drops it with a warning\)$/);
        const pushed = await push(blueprint, '?lenient=true&type=qcow2');
        assert.equal(pushed.statusCode, 201, pushed.body);
        assert.equal(pushed.json<Loose>().file, 'recipe.yaml');
        assert.deepEqual(pushed.json<Loose>().warnings, [
          { file: 'blueprint.toml', line: 4, col: 1, text: 'installation_device = "/dev/sda"', message: 'customizations.installation_device: is for installer images; kiln writes the disk image itself (dropped: --lenient)' },
        ]);
        const text = await h.app.inject({ method: 'GET', url: '/v1/recipes/lenient/versions/1', headers: h.auth(h.admin) });
        assert.equal(text.body, importBlueprint('blueprint.toml', blueprint, { lenient: true, type: 'qcow2' }).yaml.text, 'the recipe kiln import writes');
        assert.match(text.body, /^# --type qcow2\noutputs:\n {2}- qcow2$/m);
        const detail = await h.app.inject({ method: 'GET', url: '/v1/recipes/lenient/versions/1/detail', headers: h.auth(h.admin) });
        assert.deepEqual(detail.json<Loose>().paths, ['blueprint.toml', 'recipe.yaml'], 'the blueprint as sent is kept beside it');
        const again = await push(blueprint, '?type=qcow2&lenient=true');
        assert.equal(again.statusCode, 200, 'the same blueprint and options are the same version');
        const build = await h.app.inject({ method: 'POST', url: '/v1/builds', headers: h.auth(h.admin), payload: { recipe: 'lenient' } });
        assert.equal(build.statusCode, 202, build.body);

        const bundled = await pushTar(h, await makeTar([{ name: 'image.toml', body: 'name = "typed"\n' }]), 'application/x-tar', '?type=container');
        assert.equal(bundled.statusCode, 201, bundled.body);
        assert.equal(bundled.json<Loose>().file, 'recipe.yaml');
        assert.equal(bundled.json<Loose>().warnings, undefined);
        const taken = await pushTar(h, await makeTar([{ name: 'recipe.yaml', body: HELLO }, { name: 'image.toml', body: 'name = "typed"\n' }]), 'application/x-tar', '?file=image.toml&type=raw');
        assert.equal(taken.statusCode, 422, taken.body);
        assert.equal(errorOf(taken).message, 'recipe.yaml: the bundle already has the file the blueprint image.toml is translated into with lenient or type; leave it out, or push without them');

        const untranslatable = await push('name = "x"\nmodules = [{ name = "nodejs" }]\n', '?lenient=true');
        assert.equal(untranslatable.statusCode, 422);
        assert.deepEqual(errorOf(untranslatable).diagnostics, [
          { file: 'blueprint.toml', line: 2, col: 1, text: 'modules = [{ name = "nodejs" }]', message: 'modules: DNF modules have no Debian equivalent (list the packages you need in [[packages]])' },
        ]);
        const yaml = await pushYaml(h, HELLO, '?lenient=true');
        assert.equal(yaml.status, 400);
        assert.equal((yaml.body.error as Loose).message, 'querystring.lenient: for blueprints (*.toml) only; the recipe recipe.yaml is YAML, which names its formats in outputs: (push it without lenient)');
        const yamlBundle = await pushTar(h, await makeTar([{ name: 'recipe.yaml', body: HELLO }]), 'application/x-tar', '?lenient=true&type=raw');
        assert.equal(yamlBundle.statusCode, 400);
        assert.match(errorOf(yamlBundle).message, /^querystring\.lenient, querystring\.type: for blueprints/);
        const ova = await push(blueprint, '?type=ova');
        assert.equal(ova.statusCode, 400);
        assert.match(errorOf(ova).message, /^querystring\.type: ova: kiln has no OVA output \(use vmdk\) \(supported: qcow2, /);
        assert.equal((await push(blueprint, '?lenient=yes')).statusCode, 400);
        const list = await h.app.inject({ method: 'GET', url: '/v1/recipes', headers: h.auth(h.admin) });
        assert.deepEqual(list.json<{ recipes: { name: string }[] }>().recipes.map((r) => r.name), ['lenient', 'typed'], 'a refused push stores nothing');

        const doc = await h.app.inject({ method: 'GET', url: '/openapi.json', headers: h.auth(h.admin) });
        const params = doc.json<{ paths: Record<string, { post: { parameters: { name: string; in: string }[] } }> }>().paths['/v1/recipes']?.post.parameters ?? [];
        assert.deepEqual(params.filter((p) => p.in === 'query').map((p) => p.name).sort(), ['file', 'lenient', 'name', 'type']);
      }));

    void it('refuses a recipe that does not validate with 422 and the CLI diagnostics, storing nothing', () =>
      withService(open(), async (h) => {
        const res = await pushYaml(h, 'name: hello\nkernel: {package: none}\noutputs: [tar]\n');
        assert.equal(res.status, 422);
        const error = res.body.error as { code: string; diagnostics: unknown[] };
        assert.equal(error.code, 'invalid_recipe');
        assert.deepEqual(error.diagnostics, [
          { file: 'recipe.yaml', line: 2, col: 19, text: 'kernel: {package: none}', message: 'kernel.package: "none" needs bootloader: none (a systemd-boot image boots a kernel)' },
        ]);
        const bundled = await pushTar(h, await makeTar([{ name: 'sub/image.yaml', body: 'name: hello\nbogus: 1\n' }]), 'application/x-tar', '?file=sub/image.yaml');
        assert.equal(bundled.statusCode, 422);
        assert.equal(errorOf(bundled).diagnostics?.[0]?.file, 'sub/image.yaml', 'paths are relative to the bundle');
        assert.equal(errorOf(bundled).diagnostics?.[0]?.line, 2);
        const none = await pushTar(h, await makeTar([{ name: 'a.yaml', body: HELLO }, { name: 'b.yaml', body: HELLO }]));
        assert.equal(none.statusCode, 422);
        assert.match(errorOf(none).message, /several top-level YAML files \(a\.yaml, b\.yaml\); name the recipe with \?file=/);
        const type = await h.app.inject({ method: 'POST', url: '/v1/recipes', headers: { ...h.auth(h.admin), 'content-type': 'application/json' }, payload: { name: 'x' } });
        assert.equal(type.statusCode, 415);
        await nothingStored(h);
      }));
  });
}
