/**
 * The argument parser of a repeatable option (`--param a=1 --param b=2`): commander keeps only
 * the last value of an option unless it is given one that gathers them.
 */
export const repeatable = (value: string, previous: string[]): string[] => [...previous, value];
