// The Kubernetes Jobs runner (@kubernetes/client-node).
export {
  createKubernetesRunner,
  loadKubeConfig,
  type KubernetesRunnerDeps,
  type KubernetesAttemptRef,
} from './kubernetes-runner.ts';
export { kubernetesRunnerFactory } from './factory.ts';
export type { KubernetesRunnerStats } from './attempt-tracker.ts';
export {
  validateKubernetesConfig,
  type KubernetesRunnerConfig,
  type KubernetesResourceClass,
  type Toleration,
} from './config.ts';
export { buildAttempt, buildJob, jobName, labelValue } from './job-spec.ts';
export { buildTaskSecret, escapeExpansion, secretNameOf, splitSecrets } from './job-secret.ts';
export { classifyJob, classifyStuckPod, type Verdict } from './classify.ts';
export { ResilientWatch, type ResilientWatchOptions, type WatchStats } from './resilient-watch.ts';
