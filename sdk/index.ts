// @summit-maestro/sdk: write a Maestro task in TypeScript (README.md; the protocol it speaks is
// docs/task-protocol.md). It imports nothing of the engine: a task depends on this package alone.
export { defineTask } from './define-task.ts';
export type {
  Emit,
  Infer,
  ObjectSchema,
  Task,
  TaskContext,
  TaskDefinition,
  TaskPolicy,
} from './define-task.ts';
export { runTask, type RunTaskOptions, type TaskRunResult } from './run-task.ts';
export { runMain, EXIT, type MainOptions } from './main.ts';
export { createFakeClock, systemClock, type FakeClock, type TaskClock } from './clock.ts';
export { TaskError, type Fault, type ValidationIssue, type ValidationResult } from './errors.ts';
export { PROTOCOL_VERSION, type LogLevel, type Message } from './messages.ts';
export type { Outcome } from './lifecycle.ts';
export { workspaceFile } from './workspace-file.ts';
export { compileSchema } from './validate-inputs.ts';
export { secretIfGiven } from './secret-if-given.ts';
export { checkExample, type ExampleCheck, type TaskExample } from './examples.ts';
