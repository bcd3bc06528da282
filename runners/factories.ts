/**
 * Every runner kind, by the name manifests and the runners file use. Adding a kind: its folder
 * exports a RunnerFactory, and it gets one line here.
 */
import { containerRunnerFactory } from './container/index.ts';
import type { RunnerFactory } from './factory.ts';
import { kubernetesRunnerFactory } from './kubernetes/index.ts';
import { localRunnerFactory } from './local/index.ts';
import { serverlessRunnerFactory } from './serverless/index.ts';

export const RUNNER_FACTORIES: Readonly<Record<string, RunnerFactory>> = Object.freeze({
  local: localRunnerFactory,
  container: containerRunnerFactory,
  kubernetes: kubernetesRunnerFactory,
  serverless: serverlessRunnerFactory,
});
