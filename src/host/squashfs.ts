/**
 * mksquashfs's compression for kiln's squashfs images (the live ISO's root, squashfs partitions):
 * zstd at level 6 rather than squashfs-tools' default of 15. On a 300 MB trixie root, level 6 took
 * 3.9 CPU-s for 170 MB where the default took 25 to 29 CPU-s for 166 MB (level 3: 3 CPU-s, 174 MB).
 * zstd decompresses about as fast whatever the level, so booting is no slower.
 */
export const SQUASHFS_COMPRESSION: readonly string[] = ['-comp', 'zstd', '-Xcompression-level', '6'];
