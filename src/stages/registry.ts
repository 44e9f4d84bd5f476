/**
 * Every stage kiln has, by name: the executor looks stages up here and validates options with them,
 * and the compiler's `add(name, options)` is typed from this list (StageName, OptionsOf).
 */
import { bootstrap } from './bootstrap.js';
import { cleanupHooks } from './cleanup-hooks.js';
import { ansible } from './ansible.js';
import { customizeHooks } from './customize-hooks.js';
import { directories } from './directories.js';
import { firewall } from './firewall.js';
import type { z } from 'zod';
import type { Stage } from './define.js';
import { partitionTable } from './partition-table.js';
import { files } from './files.js';
import { filesystems } from './filesystems.js';
import { fstab } from './fstab.js';
import { imageHooks } from './image-hooks.js';
import { grub } from './grub.js';
import { grubBiosInstall } from './grub-bios-install.js';
import { kernel } from './kernel.js';
import { initramfs } from './initramfs.js';
import { outputs } from './outputs.js';
import { ostreeCommit } from './ostree-commit.js';
import { ostreeContainer } from './ostree-container.js';
import { ostreeDeploy } from './ostree-deploy.js';
import { packages } from './packages.js';
import { rpiFirmware } from './rpi-firmware.js';
import { services } from './services.js';
import { sshHostKeys } from './ssh-host-keys.js';
import { updateDone } from './update-done.js';
import { system } from './system.js';
import { systemdBoot } from './systemd-boot.js';
import { secureBootSign } from './secure-boot-sign.js';
import { uki } from './uki.js';
import { users } from './users.js';

/** A literal tuple, not Stage[]: each entry keeps its own name and options schema as types. */
export const STAGES = [
  bootstrap,
  packages,
  system,
  users,
  directories,
  files,
  services,
  firewall,
  ansible,
  customizeHooks,
  fstab,
  kernel,
  initramfs,
  uki,
  systemdBoot,
  rpiFirmware,
  grub,
  cleanupHooks,
  secureBootSign,
  sshHostKeys,
  updateDone,
  partitionTable,
  filesystems,
  grubBiosInstall,
  imageHooks,
  ostreeCommit,
  ostreeContainer,
  ostreeDeploy,
  outputs,
] as const;

type Registered = (typeof STAGES)[number];
export type StageName = Registered['name'];
type StageNamed<N extends StageName> = Extract<Registered, { name: N }>;
/** The options a stage accepts, as its schema reads them (what the compiler writes). */
export type OptionsOf<N extends StageName> = z.input<StageNamed<N>['options']>;

export function stageByName(name: string): Stage | undefined {
  return STAGES.find((s) => s.name === name);
}

