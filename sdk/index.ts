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
export {
  defineSource,
  SOURCE_OPERATIONS,
  type Source,
  type SourceContext,
  type SourceDefinition,
  type SourceInputs,
  type SourceOperation,
  type SourceOutputs,
} from './source.ts';
export {
  defineDestination,
  DESTINATION_OPERATIONS,
  type Destination,
  type DestinationContext,
  type DestinationDefinition,
  type DestinationInputs,
  type DestinationOperation,
  type DestinationOutputs,
} from './destination.ts';
export type { ConnectorContext, ConnectorDefinition, ConnectorEmit } from './connector.ts';
export {
  catalogSchema,
  configuredCatalogSchema,
  configureAll,
  type Catalog,
  type ConfiguredCatalog,
  type ConfiguredStream,
  type ConnectionStatus,
  type RecordLine,
  type Stream,
  type StreamStates,
  type SyncMode,
} from './connector-protocol.ts';
export { readRecords } from './records-file.ts';
