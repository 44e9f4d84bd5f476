/**
 * Checks an SBOM against the official JSON schema of its format (vendored in ./schemas with their
 * licences): SPDX 2.3, and CycloneDX 1.6 with the two schemas it refers to.
 */
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';

const schema = (name: string): object => JSON.parse(readFileSync(new URL(`../../../src/sbom/schemas/${name}`, import.meta.url), 'utf8')) as object;

let validators: Record<'spdx' | 'cyclonedx', (doc: unknown) => string[]> | undefined;

function load(): NonNullable<typeof validators> {
  // strict: false, because the CycloneDX schema uses keywords (meta:enum, deprecated) ajv does not know.
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats.default(ajv);
  // Formats ajv-formats lacks; the schema's other rules still check these strings.
  ajv.addFormat('iri-reference', true);
  ajv.addFormat('idn-email', true);
  // The CycloneDX schema refers to its siblings by file name, relative to its own $id.
  for (const sibling of ['spdx.SNAPSHOT.schema.json', 'jsf-0.82.SNAPSHOT.schema.json']) {
    const sub = schema(sibling) as { $id?: string };
    delete sub.$id;
    ajv.addSchema(sub, `http://cyclonedx.org/schema/${sibling}`);
  }
  const wrap = (validate: ReturnType<Ajv['compile']>) => (doc: unknown) =>
    validate(doc) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`);
  return { spdx: wrap(ajv.compile(schema('spdx-2.3.schema.json'))), cyclonedx: wrap(ajv.compile(schema('bom-1.6.SNAPSHOT.schema.json'))) };
}

/** The schema errors of a document; none when it is valid. */
export function validateSbom(format: 'spdx' | 'cyclonedx', doc: unknown): string[] {
  validators ??= load();
  return validators[format](doc);
}
