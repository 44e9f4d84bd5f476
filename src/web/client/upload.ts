/**
 * Turns what the reader picked into a POST /v1/recipes body: one YAML file as application/yaml, a
 * tar(.gz) as it is, or a picked folder packed into a tar here (tar.ts), its top folder stripped.
 */
import { tarOf, type TarFile } from './tar.js';

export interface UploadBody {
  body: Blob;
  contentType: string;
  /** The recipe file inside a bundle, when it is not recipe.yaml. */
  file?: string;
  /** The texts of the YAML files, to show a diagnostic at its line. */
  texts: Map<string, string>;
}

const isYaml = (name: string) => /\.ya?ml$/i.test(name);

export async function fromFile(file: File): Promise<UploadBody> {
  if (isYaml(file.name)) {
    const text = await file.text();
    return { body: new Blob([text]), contentType: 'application/yaml', texts: new Map([[file.name, text]]) };
  }
  if (/\.(tar\.gz|tgz)$/i.test(file.name)) return { body: file, contentType: 'application/gzip', texts: new Map() };
  if (/\.tar$/i.test(file.name)) return { body: file, contentType: 'application/x-tar', texts: new Map() };
  throw new Error(`${file.name}: pick a recipe (.yaml), a bundle (.tar, .tar.gz) or a folder`);
}

/** The path of a picked file inside its folder: webkitRelativePath without the folder's own name. */
export function relativeInFolder(path: string): string {
  const i = path.indexOf('/');
  return i < 0 ? path : path.slice(i + 1);
}

/** The recipe file of a folder: recipe.yaml, else the only top-level YAML file. */
export function recipeFileOf(paths: readonly string[]): string | undefined {
  const top = paths.filter((p) => !p.includes('/') && isYaml(p));
  if (top.includes('recipe.yaml')) return 'recipe.yaml';
  return top.length === 1 ? top[0] : undefined;
}

export async function fromFolder(files: readonly File[], recipeFile?: string): Promise<UploadBody> {
  const entries: TarFile[] = [];
  const texts = new Map<string, string>();
  for (const f of files) {
    const path = relativeInFolder(f.webkitRelativePath || f.name);
    const data = new Uint8Array(await f.arrayBuffer());
    if (isYaml(path) && data.length < 1_000_000) texts.set(path, new TextDecoder().decode(data));
    // The browser does not say whether a file is executable; hooks run with `sh`, so scripts are marked.
    entries.push({ path, data, executable: /\.(sh|py)$/.test(path) || path.includes('hooks/') });
  }
  const file = recipeFile ?? recipeFileOf([...texts.keys()]);
  const tar = tarOf(entries);
  return { body: new Blob([tar]), contentType: 'application/x-tar', ...(file && file !== 'recipe.yaml' ? { file } : {}), texts };
}
