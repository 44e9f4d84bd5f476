export { loadRecipe, parseRecipe, type LoadedRecipe, type LoadOptions } from './load.js';
export { buildsDisk, DEFAULT_MIRROR, DISK_FORMATS, HOOK_PHASES, RecipeSchema, type HookPhase, type Recipe, type RecipeFile, type RecipePartition, type RecipeUser } from './schema.js';
export { parseDiskSize, parseSize } from './sizes.js';
export { imageHostname } from './hostname.js';
export { ALLOWED, BOOTLOADERS, LIVE_FORMATS, OUTPUTS, type BootloaderName, type OutputName } from './allowed.js';
