export { importBlueprint, isBlueprintFile, loadAnyRecipe, parseBlueprint, type AnyRecipeOptions } from './load.js';
export { translateBlueprint, type BlueprintOptions } from './translate.js';
export { IMAGE_TYPES, imageType } from './image-types.js';
