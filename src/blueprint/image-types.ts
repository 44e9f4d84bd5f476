/**
 * composer's image types (`composer-cli compose start BP TYPE`, `--type` here) as kiln outputs. A
 * blueprint names no type: composer takes it per compose, and so does `kiln build bp.toml --type`.
 */
import { UserError } from '../errors.js';
import type { OutputName } from '../recipe/allowed.js';

export interface ImageType {
  outputs: OutputName[];
  /** What the user should know about the mapping (a YAML comment). */
  note?: string;
  /** An image no machine boots: no kernel, no bootloader. */
  container?: true;
}

const CONTAINER: ImageType = { outputs: ['oci'], container: true, note: 'an OCI container image: no kernel, no bootloader' };

export const IMAGE_TYPES: Readonly<Record<string, ImageType>> = {
  qcow2: { outputs: ['qcow2'] },
  'guest-image': { outputs: ['qcow2'], note: "RHEL's KVM guest image is a qcow2 disk" },
  openstack: { outputs: ['qcow2'], note: 'OpenStack takes the qcow2 disk' },
  raw: { outputs: ['raw'] },
  image: { outputs: ['raw'], note: 'a raw disk image' },
  'minimal-raw': { outputs: ['raw'] },
  ami: { outputs: ['raw'], note: 'AWS imports the raw disk (aws ec2 import-snapshot); kiln does not upload' },
  ec2: { outputs: ['raw'], note: 'AWS imports the raw disk (aws ec2 import-snapshot); kiln does not upload' },
  vmdk: { outputs: ['vmdk'] },
  vhd: { outputs: ['vhdx'], note: "kiln writes VHDX: Azure needs a fixed VHD, made from it with qemu-img convert -O vpc -o subformat=fixed,force_size" },
  tar: { outputs: ['tar'], note: 'a tar archive of the root tree' },
  container: CONTAINER,
  oci: { ...CONTAINER, note: "kiln's oci is a container image (composer's oci type is an Oracle Cloud disk: use --type qcow2 for that)" },
};

/** Types composer has and kiln cannot make, with the reason. */
const REFUSED_TYPES: Readonly<Record<string, string>> = {
  'image-installer': 'installer ISOs are not yet supported',
  'anaconda-iso': 'installer ISOs are not yet supported',
  'live-installer': 'installer ISOs are not yet supported',
  'edge-installer': 'installer ISOs are not yet supported',
  'edge-simplified-installer': 'installer ISOs are not yet supported',
  'edge-commit': 'OSTree commits are not yet supported',
  'edge-container': 'OSTree commits are not yet supported',
  'iot-commit': 'OSTree commits are not yet supported',
  'iot-container': 'OSTree commits are not yet supported',
  ova: 'kiln has no OVA output (use vmdk)',
  gce: 'kiln has no Google Compute Engine archive (use raw and pack it as disk.raw in a tar.gz)',
  wsl: 'kiln has no WSL output (use tar: wsl --import takes a root tree tarball)',
  'vagrant-libvirt': 'kiln has no Vagrant box output (use qcow2)',
  'vagrant-virtualbox': 'kiln has no Vagrant box output (use vmdk)',
};

export function imageType(name: string): ImageType {
  const found = IMAGE_TYPES[name];
  if (found) return found;
  const supported = `supported: ${Object.keys(IMAGE_TYPES).join(', ')}`;
  const why = REFUSED_TYPES[name];
  throw new UserError(`--type ${name}: ${why ? `${why} (${supported})` : `not an image type kiln makes from a blueprint (${supported})`}`);
}
