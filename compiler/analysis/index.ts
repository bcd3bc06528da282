// The compiler's semantic analysis, as a list of passes (analyze.ts), one file per pass.
export { analyze, passes } from './analyze.ts';
export type { AnalysisState, Pass, TaskModel } from './state.ts';
