// The compiler's public face: manifest → Plan with diagnostics, and the expression, condition
// and duration helpers the engine uses at dispatch time. Pure: no fs, network, env or clock.
export { compileManifest } from './compile.ts';
// Loaded on first use (compiler/libraries.ts), for the layers above that parse YAML or cron too.
export { cronLibrary, yamlLibrary } from './libraries.ts';
export type { CompileOptions, CompileResult } from './compile.ts';
export { renderKnown, renderTemplate } from './render.ts';
export type { ExpressionScope } from './render.ts';
export { evaluateCondition, evaluateCelBoolean } from './condition.ts';
export { parseDuration, DurationError } from './duration.ts';
export { ExpressionError, ConditionError } from './errors.ts';
export { planToMermaid, planToDot } from './graph.ts';
export { Code as DiagnosticCode, codeDescriptions } from './codes.ts';
export { Limits as CompilerLimits } from './limits.ts';
export { PlanDefaults } from './build-plan.ts';
export { parseCodeowners, compileFilterPatterns, matchesRefFilter, GlobLimits } from './glob/index.ts';
export type { Codeowners, CodeownersRule, CodeownersProblem, LinearMatcher } from './glob/index.ts';
export { GlobError } from './errors.ts';
export {
  normaliseSchedule,
  scheduleProblems,
  MAX_CATCH_UP_SLOTS,
  type PlanSchedule,
  type CatchUp,
} from './schedule.ts';
