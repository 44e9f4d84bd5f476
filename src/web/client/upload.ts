/**
 * Turns what the reader picked into a POST /v1/recipes body: one YAML file as application/yaml, a
 * blueprint (.toml) as application/toml under its own name, a tar(.gz) as it is, or a picked folder
 * packed into a tar here (tar.ts), its top folder stripped.
 */
import { tarOf, type TarFile } from './tar.js';

export interface UploadBody {
  body: Blob;
  contentType: string;
  /** The recipe file inside a bundle when it is not recipe.yaml; a blueprint's own name. */
  file?: string;
  /** The recipe is a blueprint, so the blueprint options apply (a tar is not looked into). */
  blueprint: boolean;
  /** The texts of the YAML and TOML files, to show a diagnostic at its line. */
  texts: Map<string, string>;
}

/** What `kiln import --lenient --type` would be asked: the page's blueprint options. */
export interface BlueprintChoice {
  lenient: boolean;
  type: string;
}

const isYaml = (name: string) => /\.ya?ml$/i.test(name);
export const isToml = (name: string) => /\.toml$/i.test(name);

export async function fromFile(file: File): Promise<UploadBody> {
  if (isYaml(file.name) || isToml(file.name)) {
    const text = await file.text();
    const blueprint = isToml(file.name);
    // A blueprint keeps its name: the server reads what a file is from it, and messages name it.
    return { body: new Blob([text]), contentType: blueprint ? 'application/toml' : 'application/yaml', ...(blueprint ? { file: file.name } : {}), blueprint, texts: new Map([[file.name, text]]) };
  }
  if (/\.(tar\.gz|tgz)$/i.test(file.name)) return { body: file, contentType: 'application/gzip', blueprint: false, texts: new Map() };
  if (/\.tar$/i.test(file.name)) return { body: file, contentType: 'application/x-tar', blueprint: false, texts: new Map() };
  throw new Error(`${file.name}: pick a recipe (.yaml), a blueprint (.toml), a bundle (.tar, .tar.gz) or a folder`);
}

/** The path of a picked file inside its folder: webkitRelativePath without the folder's own name. */
export function relativeInFolder(path: string): string {
  const i = path.indexOf('/');
  return i < 0 ? path : path.slice(i + 1);
}

/** The recipe file of a folder as the server finds it: recipe.yaml, else the only top-level YAML file, else (no YAML at all) the only blueprint. */
export function recipeFileOf(paths: readonly string[]): string | undefined {
  const top = paths.filter((p) => !p.includes('/'));
  const yamls = top.filter(isYaml);
  if (yamls.includes('recipe.yaml')) return 'recipe.yaml';
  if (yamls.length) return yamls.length === 1 ? yamls[0] : undefined;
  const tomls = top.filter(isToml);
  return tomls.length === 1 ? tomls[0] : undefined;
}

/** Whether the pick's recipe is a blueprint, from the names alone (to offer its options before anything is read). */
export function isBlueprintPick(file: string | undefined, folderPaths: readonly string[]): boolean {
  if (file !== undefined) return isToml(file);
  const recipe = recipeFileOf(folderPaths.map(relativeInFolder));
  return recipe !== undefined && isToml(recipe);
}

export async function fromFolder(files: readonly File[], recipeFile?: string): Promise<UploadBody> {
  const entries: TarFile[] = [];
  const texts = new Map<string, string>();
  for (const f of files) {
    const path = relativeInFolder(f.webkitRelativePath || f.name);
    const data = new Uint8Array(await f.arrayBuffer());
    if ((isYaml(path) || isToml(path)) && data.length < 1_000_000) texts.set(path, new TextDecoder().decode(data));
    // The browser does not say whether a file is executable; hooks run with `sh`, so scripts are marked.
    entries.push({ path, data, executable: /\.(sh|py)$/.test(path) || path.includes('hooks/') });
  }
  const file = recipeFile ?? recipeFileOf(entries.map((e) => e.path));
  const tar = tarOf(entries);
  return { body: new Blob([tar]), contentType: 'application/x-tar', ...(file && file !== 'recipe.yaml' ? { file } : {}), blueprint: file !== undefined && isToml(file), texts };
}

/** The query of the push: the recipe file, and the blueprint options only for a blueprint (the server refuses them for YAML). */
export function pushQuery(upload: UploadBody, choice: BlueprintChoice): string {
  const query = new URLSearchParams();
  if (upload.file) query.set('file', upload.file);
  if (upload.blueprint && choice.lenient) query.set('lenient', 'true');
  if (upload.blueprint && choice.type.trim()) query.set('type', choice.type.trim());
  const text = query.toString();
  return text ? `?${text}` : '';
}
