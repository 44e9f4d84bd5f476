export { canonicalJson, idOf, sha256 } from './canonical.js';
export { ARCHES, compile, hostname, type Manifest, type ManifestStage, type Operation } from './compile.js';
