/** Mount points inside mount points: partition-table sizes, and filesystems builds, each partition without the ones mounted inside it. */

/** The closest other mount point that contains `mount`. */
export function parentMount(mount: string, partitions: readonly { mount?: string | undefined }[]): string | undefined {
  return partitions
    .map((p) => p.mount)
    .filter((m): m is string => m !== undefined && m !== mount && (m === '/' || mount.startsWith(`${m}/`)))
    .sort((a, b) => b.length - a.length)[0];
}
