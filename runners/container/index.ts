// The container runner (Docker Engine API: Docker or Podman's compatible service).
export { createContainerRunner, containerName, type ContainerRunnerDeps } from './container-runner.ts';
export { containerRunnerFactory } from './factory.ts';
export {
  validateContainerConfig,
  type ContainerRunnerConfig,
  type ContainerResourceClass,
} from './config.ts';
