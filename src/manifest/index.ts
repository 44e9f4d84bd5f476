export { canonicalJson, idOf, sha256 } from '../host/canonical.js';
export { compile, hostname, type Manifest, type ManifestStage } from './compile.js';
export type { Operation } from './provenance.js';
