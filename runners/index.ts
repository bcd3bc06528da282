// The runners: each backend's factory, registered by surfaces in a RunnerRegistry (core).
export { createContainerRunner, type ContainerRunnerConfig } from './container/index.ts';
