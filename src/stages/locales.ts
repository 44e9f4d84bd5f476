/** Locales that need no generation: built into glibc (the compiler adds the locales package for any other). */
export const BUILTIN_LOCALES = ['C', 'POSIX', 'C.UTF-8'];
