/**
 * SPDX 2.3 and CycloneDX 1.6 documents for an image: every installed binary package with its
 * version, architecture, source package, maintainer, license (from DEP-5 copyright files) and
 * purl, and the image itself as the root element with its sha256. Pure: the input is read elsewhere.
 */
import { createHash } from 'node:crypto';
import { PackageURL } from 'packageurl-js';
import type { DpkgPackage } from './dpkg.js';

export interface SbomInput {
  name: string;
  kilnVersion: string;
  /** ISO time the documents say they were made. */
  created: string;
  /** From the image's /etc/os-release: e.g. debian, 12. */
  distro: { id: string; versionId: string };
  image: { file: string; sha256: string };
  packages: (DpkgPackage & { license: string })[];
}

export function purlOf(p: DpkgPackage, distro: SbomInput['distro']): string {
  return new PackageURL('deb', distro.id, p.name, p.version, { arch: p.arch, distro: `${distro.id}-${distro.versionId}` }, undefined).toString();
}

/** SPDX ids allow letters, digits, "." and "-". */
const spdxRef = (text: string) => `SPDXRef-${text.replace(/[^A-Za-z0-9.-]/g, '-')}`;

/** "Name <mail>" as SPDX's "Person: Name (mail)"; a team address is still a person to SPDX's grammar. */
function supplier(maintainer: string): string {
  const m = /^(.*?)\s*<([^>]+)>$/.exec(maintainer);
  return m ? `Person: ${m[1]} (${m[2]})` : maintainer ? `Person: ${maintainer}` : 'NOASSERTION';
}

export function spdxDocument(input: SbomInput): object {
  const image = spdxRef('Image');
  return {
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name: input.name,
    documentNamespace: `https://kiln.invalid/spdx/${input.name}-${input.image.sha256}`,
    creationInfo: { created: input.created, creators: [`Tool: kiln-${input.kilnVersion}`] },
    packages: [
      {
        SPDXID: image,
        name: input.image.file,
        downloadLocation: 'NOASSERTION',
        filesAnalyzed: false,
        primaryPackagePurpose: 'OPERATING_SYSTEM',
        checksums: [{ algorithm: 'SHA256', checksumValue: input.image.sha256 }],
        licenseConcluded: 'NOASSERTION',
        licenseDeclared: 'NOASSERTION',
        copyrightText: 'NOASSERTION',
      },
      ...input.packages.map((p) => ({
        SPDXID: spdxRef(`Package-${p.name}-${p.arch}`),
        name: p.name,
        versionInfo: p.version,
        supplier: supplier(p.maintainer),
        downloadLocation: 'NOASSERTION',
        filesAnalyzed: false,
        sourceInfo: `built package from: ${p.source} ${p.sourceVersion}`,
        licenseConcluded: 'NOASSERTION',
        licenseDeclared: p.license,
        copyrightText: 'NOASSERTION',
        externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: purlOf(p, input.distro) }],
      })),
    ],
    relationships: [
      { spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: image },
      ...input.packages.map((p) => ({ spdxElementId: image, relationshipType: 'CONTAINS', relatedSpdxElement: spdxRef(`Package-${p.name}-${p.arch}`) })),
    ],
  };
}

/** A UUID derived from the image's hash: the same image gives the same serial number. */
function serial(sha256: string): string {
  const h = createHash('sha256').update(`kiln:cyclonedx:${sha256}`).digest('hex');
  return `urn:uuid:${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export function cyclonedxDocument(input: SbomInput): object {
  return {
    bomFormat: 'CycloneDX',
    specVersion: '1.6',
    serialNumber: serial(input.image.sha256),
    version: 1,
    metadata: {
      timestamp: input.created,
      tools: { components: [{ type: 'application', name: 'kiln', version: input.kilnVersion }] },
      component: {
        type: 'operating-system',
        'bom-ref': 'image',
        name: input.name,
        description: `${input.distro.id} ${input.distro.versionId} image ${input.image.file}`,
        hashes: [{ alg: 'SHA-256', content: input.image.sha256 }],
      },
    },
    components: input.packages.map((p) => {
      const purl = purlOf(p, input.distro);
      return {
        type: 'library',
        'bom-ref': purl,
        name: p.name,
        version: p.version,
        ...(p.maintainer ? { publisher: p.maintainer, supplier: { name: p.maintainer } } : {}),
        ...(p.license === 'NOASSERTION' ? {} : { licenses: [{ expression: p.license }] }),
        purl,
        properties: [
          { name: 'kiln:deb:source', value: p.source },
          { name: 'kiln:deb:source-version', value: p.sourceVersion },
          { name: 'kiln:deb:architecture', value: p.arch },
        ],
      };
    }),
    dependencies: [{ ref: 'image', dependsOn: input.packages.map((p) => purlOf(p, input.distro)) }],
  };
}
