/** The Debian name of the machine's own architecture: what a worker builds without qemu-user. */
import type { ArchName } from './table.js';

const NODE_TO_DEBIAN: Partial<Record<NodeJS.Architecture, ArchName>> = { x64: 'amd64', arm64: 'arm64', arm: 'armhf', ia32: 'i386' };

export function hostArch(nodeArch: NodeJS.Architecture = process.arch): ArchName {
  const arch = NODE_TO_DEBIAN[nodeArch];
  if (!arch) throw new Error(`kiln builds no images on a ${nodeArch} machine (it knows amd64, arm64, armhf and i386)`);
  return arch;
}
