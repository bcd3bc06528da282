// Globs matched in linear time (translated to RE2, matched by re2js): CODEOWNERS and GitHub
// Actions trigger filters. The compiler's index.ts re-exports what other folders use.
export { parseCodeowners } from './codeowners.ts';
export type { Codeowners, CodeownersRule, CodeownersProblem } from './codeowners.ts';
export { checkFilterPatterns, compileFilterPatterns, matchesRefFilter } from './ref-filter.ts';
export type { FilterProblem } from './ref-filter.ts';
export type { LinearMatcher } from './linear-match.ts';
export { GlobLimits } from './glob-limits.ts';
