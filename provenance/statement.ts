import {
  canonicalJson,
  sha256Digest,
  type AttemptEvidence,
  type RunEvidence,
  type RunSource,
} from '../core/index.ts';

export const IN_TOTO_STATEMENT_V1 = 'https://in-toto.io/Statement/v1';
export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
export const ATTEMPT_BUILD_TYPE = 'https://summit-maestro.dev/build-types/task-attempt/v1';
export const RUN_BUILD_TYPE = 'https://summit-maestro.dev/build-types/run/v1';
/** The subject name for an attempt's outputs document (its `outputs` map as canonical JSON). */
export const OUTPUTS_SUBJECT = 'maestro:outputs.json';
/** Prefix of subject names for artifact files. */
export const ARTIFACT_SUBJECT_PREFIX = 'artifacts/';

export type DigestSet = Record<string, string>;
export interface ResourceDescriptor {
  name?: string;
  uri?: string;
  digest: DigestSet;
}
export interface InTotoStatement<P = unknown> {
  _type: typeof IN_TOTO_STATEMENT_V1;
  subject: ResourceDescriptor[];
  predicateType: string;
  predicate: P;
}

/** Maestro's part of the predicate, in `buildDefinition.internalParameters.maestro`. */
export interface MaestroAttemptFields {
  kind: 'attempt';
  runId: string;
  taskId: string;
  attempt: number;
  attemptId: string;
  runner: string;
  definitionDigest: string;
  status: string;
  exitCode: number | null;
  outputsDigest: string;
  cache: { hit: boolean; key?: string };
  policy: { decisionIds: string[]; bundleDigest?: string; off?: true };
  approvalDigest?: string;
  isolation?: {
    sandbox: 'bwrap' | 'container' | 'pod' | 'none';
    network: 'on' | 'none';
    reason?: string;
    hostAccess?: true;
  };
  /** The image an image policy checked: what the task named, the digest that ran, the verdict. */
  image?: {
    reference: string;
    digest?: string;
    verification: 'verified' | 'warned' | 'refused' | 'unchecked';
    signer?: string;
    decisionId?: string;
  };
  /** The interrupted attempt this one replaces (a crash of its engine or worker), and why. */
  reattemptOf?: { attempt: number; attemptId: string; interruptedBy: string; reattempt: number };
  /** Where the runner placed the attempt (a Kubernetes cluster and namespace). */
  placement?: { cluster: string; namespace?: string };
  /**
   * What the attempt cost: its runner and class's price per hour, the budget guard's estimate, and
   * the actual cost (price × measured duration), in the price table's currency (docs/budgets.md).
   */
  cost?: { currency: string; pricePerHour: number; estimated: number; actual: number };
}
export interface MaestroRunFields {
  kind: 'run';
  runId: string;
  status: string;
  attemptReceipts: Record<string, string>;
  /** Present when policy was off on purpose for the run. */
  policy?: { off: true };
  approvalDigest?: string;
}

export interface SlsaProvenance<M = MaestroAttemptFields | MaestroRunFields> {
  buildDefinition: {
    buildType: string;
    externalParameters: {
      planDigest: string;
      params: Record<string, unknown>;
      workflow: { name: string; namespace: string };
      taskId?: string;
    };
    internalParameters: { maestro: M };
    resolvedDependencies: ResourceDescriptor[];
  };
  runDetails: {
    builder: { id: string };
    metadata: { invocationId: string; startedOn: string; finishedOn: string };
  };
}

export type ReceiptStatement = InTotoStatement<SlsaProvenance>;

/**
 * The run's source as a SLSA resolved dependency: a git commit as `gitCommit` (in-toto's digest
 * name for it) under a `git+<repo>` URI, as SLSA's GitHub builders record it; a plain directory
 * by its sha256 tree digest.
 */
export function sourceDescriptor(source: RunSource): ResourceDescriptor {
  if (source.kind === 'git') {
    const ref = source.ref ? `@${source.ref}` : '';
    const uri = /^[a-z]+:\/\//i.test(source.repo)
      ? `git+${source.repo}${ref}`
      : `git+file://${source.repo}${ref}`;
    return { name: 'source', uri, digest: { gitCommit: source.commit } };
  }
  return { name: 'source', uri: `file://${source.repo}`, digest: toDigestSet(source.commit) };
}

/** `sha256:<hex>` → in-toto's `{ sha256: <hex> }`; other algorithms pass through by name. */
export function toDigestSet(digest: string): DigestSet {
  const at = digest.indexOf(':');
  if (at <= 0) throw new TypeError(`digest ${JSON.stringify(digest)} has no algorithm prefix`);
  return { [digest.slice(0, at)]: digest.slice(at + 1) };
}

/** The bytes of the outputs document whose digest an attempt without artifacts has as subject. */
export function outputsDocument(outputs: Record<string, string>): string {
  return canonicalJson(outputs);
}

/**
 * Builds an attempt's statement. Every field comes from the engine's evidence and the attestor's
 * own builder id; a task only ever influenced `outputs` and the artifact bytes whose digests the
 * engine computed itself. Nothing here is read from task output beyond those digests.
 */
export function buildAttemptStatement(evidence: AttemptEvidence, builderId: string): ReceiptStatement {
  const outputsDigest = sha256Digest(outputsDocument(evidence.outputs));
  const subject: ResourceDescriptor[] = evidence.artifacts.map((file) => ({
    name: `${ARTIFACT_SUBJECT_PREFIX}${file.path}`,
    digest: toDigestSet(file.digest),
  }));
  if (subject.length === 0) subject.push({ name: OUTPUTS_SUBJECT, digest: toDigestSet(outputsDigest) });
  const resolvedDependencies: ResourceDescriptor[] = [
    { name: 'task-definition', digest: toDigestSet(evidence.definitionDigest) },
  ];
  if (evidence.codeDigest)
    resolvedDependencies.push({ name: 'task-code', digest: toDigestSet(evidence.codeDigest) });
  if (evidence.source) resolvedDependencies.push(sourceDescriptor(evidence.source));
  // The image that ran is a dependency of the attempt, by digest (SLSA: what the build ran on).
  if (evidence.image?.digest && evidence.image.verification !== 'refused')
    resolvedDependencies.push({
      name: 'image',
      uri: `oci://${evidence.image.reference}`,
      digest: toDigestSet(evidence.image.digest),
    });
  // What the attempt received from the tasks it needs: the same digests as their receipts' subjects.
  for (const file of evidence.inputArtifacts ?? [])
    resolvedDependencies.push({
      name: `${ARTIFACT_SUBJECT_PREFIX}${file.path}`,
      digest: toDigestSet(file.digest),
    });
  for (const name of Object.keys(evidence.inputDigests).sort())
    resolvedDependencies.push({ name: `input:${name}`, digest: toDigestSet(evidence.inputDigests[name]!) });
  const maestro: MaestroAttemptFields = {
    kind: 'attempt',
    runId: evidence.runId,
    taskId: evidence.taskId,
    attempt: evidence.attempt,
    attemptId: evidence.attemptId,
    runner: evidence.runner,
    definitionDigest: evidence.definitionDigest,
    status: evidence.status,
    exitCode: evidence.exitCode,
    outputsDigest,
    cache: compact({ hit: evidence.cache.hit, key: evidence.cache.key }) as MaestroAttemptFields['cache'],
    policy: compact({
      decisionIds: [...evidence.policy.decisionIds],
      bundleDigest: evidence.policy.bundleDigest,
      off: evidence.policy.off,
    }) as MaestroAttemptFields['policy'],
    ...(evidence.approvalDigest ? { approvalDigest: evidence.approvalDigest } : {}),
    ...(evidence.isolation ? { isolation: { ...evidence.isolation } } : {}),
    ...(evidence.image ? { image: { ...evidence.image } } : {}),
    ...(evidence.reattemptOf ? { reattemptOf: { ...evidence.reattemptOf } } : {}),
    ...(evidence.placement ? { placement: { ...evidence.placement } } : {}),
    ...(evidence.cost ? { cost: { ...evidence.cost } } : {}),
  };
  return {
    _type: IN_TOTO_STATEMENT_V1,
    subject,
    predicateType: SLSA_PROVENANCE_V1,
    predicate: {
      buildDefinition: {
        buildType: ATTEMPT_BUILD_TYPE,
        externalParameters: {
          planDigest: evidence.planDigest,
          params: evidence.params,
          workflow: { name: evidence.workflow.name, namespace: evidence.workflow.namespace },
          taskId: evidence.taskId,
        },
        internalParameters: { maestro },
        resolvedDependencies,
      },
      runDetails: {
        builder: { id: builderId },
        metadata: {
          invocationId: `${evidence.runId}/${evidence.attemptId}`,
          startedOn: new Date(evidence.startedAt).toISOString(),
          finishedOn: new Date(evidence.finishedAt).toISOString(),
        },
      },
    },
  };
}

/** The run's statement: its subjects are the attempt receipts, so one signature covers the set. */
export function buildRunStatement(evidence: RunEvidence, builderId: string): ReceiptStatement {
  const keys = Object.keys(evidence.attemptReceipts).sort();
  const subject: ResourceDescriptor[] = keys.map((key) => ({
    name: `receipt:${key}`,
    digest: toDigestSet(evidence.attemptReceipts[key]!),
  }));
  if (subject.length === 0) subject.push({ name: 'plan', digest: toDigestSet(evidence.planDigest) });
  const maestro: MaestroRunFields = {
    kind: 'run',
    runId: evidence.runId,
    status: evidence.status,
    attemptReceipts: Object.fromEntries(keys.map((key) => [key, evidence.attemptReceipts[key]!])),
    ...(evidence.policyOff ? { policy: { off: true as const } } : {}),
    ...(evidence.approvalDigest ? { approvalDigest: evidence.approvalDigest } : {}),
  };
  return {
    _type: IN_TOTO_STATEMENT_V1,
    subject,
    predicateType: SLSA_PROVENANCE_V1,
    predicate: {
      buildDefinition: {
        buildType: RUN_BUILD_TYPE,
        externalParameters: {
          planDigest: evidence.planDigest,
          params: evidence.params,
          workflow: { name: evidence.workflow.name, namespace: evidence.workflow.namespace },
        },
        internalParameters: { maestro },
        resolvedDependencies: [
          { name: 'plan', digest: toDigestSet(evidence.planDigest) },
          ...(evidence.source ? [sourceDescriptor(evidence.source)] : []),
        ],
      },
      runDetails: {
        builder: { id: builderId },
        metadata: {
          invocationId: evidence.runId,
          startedOn: new Date(evidence.startedAt).toISOString(),
          finishedOn: new Date(evidence.finishedAt).toISOString(),
        },
      },
    },
  };
}

function compact<T extends Record<string, unknown>>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
