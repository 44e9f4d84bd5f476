/**
 * `kiln export-container`: the recipe's own system as a development container. The same recipe
 * (packages, files, users, Ansible playbook, hooks) plus the build tools, without kernel, disk or
 * bootloader, written by the `oci` output as an OCI layout and a docker-archive for `podman load`.
 * It is built for the recipe's architecture: an arm64 recipe gives an arm64 container, which an
 * amd64 machine runs through qemu-user (binfmt), as kiln's own builds do (edi's cross-development).
 */
import { imageHostname, type LoadedRecipe, type Recipe } from '../recipe/index.js';

/** What a developer needs to build software for the image, in the image's own userland. */
export const DEVTOOLS = ['build-essential', 'gdb', 'git', 'pkg-config', 'ca-certificates', 'less', 'procps', 'file'];

/** The recipe as a container: same content and hostname, named <name>-dev, one `oci` output. */
export function devContainerRecipe(loaded: LoadedRecipe): LoadedRecipe {
  const r = loaded.recipe;
  const recipe: Recipe = {
    ...r,
    name: `${r.name}-dev`,
    hostname: imageHostname(r),
    // A bootable recipe's userland has systemd (its services are enabled with systemctl); keep it.
    packages: [...new Set([...r.packages, ...(r.kernel.package === 'none' ? [] : ['systemd-sysv']), ...DEVTOOLS])],
    kernel: { ...r.kernel, package: 'none', cmdline: [], initramfs_modules: [], uki: false },
    bootloader: 'none',
    outputs: ['oci'],
    compress: 'none',
    // Image hooks work on a disk image, which a container has none of.
    hooks: { ...r.hooks, image: [] },
  };
  delete recipe.secure_boot;
  for (const name of DEVTOOLS) if (!loaded.origins.askedFor('packages', name).length) loaded.origins.ask('packages', name, 'devtools');
  return { ...loaded, recipe };
}
