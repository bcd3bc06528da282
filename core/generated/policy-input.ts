// Generated from schemas/policy-input.schema.json by scripts/generate-types.ts. Do not edit.

/**
 * The input document the engine hands the policy decision point before every task attempt (core's PolicyInput). Rego reads it as `input`. The PDP validates every input against this schema and fails closed (policy unavailable) when it does not match.
 */
export interface PolicyInput {
  /**
   * The task about to run, as the plan describes it after the engine resolved its runner and hosts.
   */
  task: {
    /**
     * The task id in the workflow.
     */
    id: string;
    /**
     * The plan action type of the task.
     */
    kind: 'shell' | 'argv' | 'catalog' | 'container';
    /**
     * local, container, kubernetes or serverless.
     */
    runner: string;
    /**
     * The resource class (small, medium, ...).
     */
    resources: string;
    /**
     * Container image, when the task runs in one.
     */
    image?: string;
    /**
     * Catalog reference as written (`tasks/http@1.0.0`) when kind is catalog; the default rules read the task name from it.
     */
    uses?: string;
    /**
     * Hosts the task will contact (from the catalog entry's targetInputs, e.g. an HTTP task's url). Empty when unknown.
     */
    targetHosts: string[];
    /**
     * The task's runner is configured to run it privileged (from the runner's configuration: the container runner's `privileged`). The local and Kubernetes runners cannot be configured privileged and report false.
     */
    privileged: boolean;
    /**
     * The task's container or pod shares the host's network namespace (from the runner's configuration: the container runner's `network: host`). The Kubernetes runner has no such setting and reports false; the local runner is a host process, not a container, and reports false (its reach is its sandbox's network setting).
     */
    hostNetwork: boolean;
    /**
     * The Kubernetes cluster the task would run on (the operator's name: a key of the runner's `clusters`, or `default`), for the Kubernetes runner; absent for runners that do not choose.
     */
    cluster?: string;
  };
  workflow: {
    name: string;
    namespace: string;
    /**
     * Workflow or Runbook.
     */
    kind: string;
    /**
     * metadata.labels of the manifest; a label in data.maestro.config.sensitive_labels marks the workflow sensitive.
     */
    labels?: {
      [k: string]: string;
    };
  };
  /**
   * The digest of the Plan being run (sha256:<hex>).
   */
  planDigest: string;
  /**
   * The namespace the run belongs to.
   */
  namespace: string;
  /**
   * The manifest's spec.policy: why (purpose), on whose authority, under which license.
   */
  policy: {
    purpose?: string;
    authority?: string;
    license?: string;
  };
  /**
   * Who started the run (a GitHub login, a CLI user, an API principal).
   */
  actor: string;
  /**
   * Digest of the approval attestation for this plan, when one exists.
   */
  approvalDigest?: string;
}
