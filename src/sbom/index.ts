/** The SBOM files of a build, checked against their schemas before anything is written. */
import { cyclonedxDocument, spdxDocument, type SbomInput } from './document.js';
import { validateSbom } from './validate.js';

export { readImage, type ImageContents } from './read.js';

export const SBOM_FILES = { spdx: 'spdx.json', cyclonedx: 'cdx.json' } as const;

export function sbomFiles(formats: readonly string[], input: SbomInput): { file: string; format: string; text: string }[] {
  return formats.map((format) => {
    if (format !== 'spdx' && format !== 'cyclonedx') throw new Error(`unknown SBOM format ${format}`);
    const doc = format === 'spdx' ? spdxDocument(input) : cyclonedxDocument(input);
    const errors = validateSbom(format, doc);
    // kiln made the document: one its own schema rejects is a bug in kiln, never the user's input.
    if (errors.length) throw new Error(`the ${format} SBOM kiln made does not match its schema: ${errors.slice(0, 5).join('; ')}`);
    return { file: `${input.name}.${SBOM_FILES[format]}`, format, text: `${JSON.stringify(doc, null, 2)}\n` };
  });
}
