/** A word for sh: single-quoted, so nothing in it is expanded. */
export function quote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}
