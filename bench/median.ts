/** The middle value of the runs a benchmark took (the upper middle of an even count); NaN for none. */
export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
