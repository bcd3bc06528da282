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
    return { digest: { gitCommit: source.commit }, name: 'source', uri };
  }
  return { digest: toDigestSet(source.commit), name: 'source', uri: `file://${source.repo}` };
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
  // Every object below is built with its keys in canonical (UTF-16) order, so the signer's
  // canonicalJson takes JSON.stringify's fast path instead of a sorted copy (core/canonical.ts).
  const outputsDigest = sha256Digest(outputsDocument(evidence.outputs));
  const subject: ResourceDescriptor[] = evidence.artifacts.map((file) => ({
    digest: toDigestSet(file.digest),
    name: `${ARTIFACT_SUBJECT_PREFIX}${file.path}`,
  }));
  if (subject.length === 0) subject.push({ digest: toDigestSet(outputsDigest), name: OUTPUTS_SUBJECT });
  const resolvedDependencies: ResourceDescriptor[] = [
    { digest: toDigestSet(evidence.definitionDigest), name: 'task-definition' },
  ];
  if (evidence.codeDigest)
    resolvedDependencies.push({ digest: toDigestSet(evidence.codeDigest), name: 'task-code' });
  if (evidence.source) resolvedDependencies.push(sourceDescriptor(evidence.source));
  // The image that ran is a dependency of the attempt, by digest (SLSA: what the build ran on).
  if (evidence.image?.digest && evidence.image.verification !== 'refused')
    resolvedDependencies.push({
      digest: toDigestSet(evidence.image.digest),
      name: 'image',
      uri: `oci://${evidence.image.reference}`,
    });
  // What the attempt received from the tasks it needs: the same digests as their receipts' subjects.
  for (const file of evidence.inputArtifacts ?? [])
    resolvedDependencies.push({
      digest: toDigestSet(file.digest),
      name: `${ARTIFACT_SUBJECT_PREFIX}${file.path}`,
    });
  for (const name of Object.keys(evidence.inputDigests).sort())
    resolvedDependencies.push({ digest: toDigestSet(evidence.inputDigests[name]!), name: `input:${name}` });
  return {
    _type: IN_TOTO_STATEMENT_V1,
    predicate: {
      buildDefinition: {
        buildType: ATTEMPT_BUILD_TYPE,
        externalParameters: {
          params: evidence.params,
          planDigest: evidence.planDigest,
          taskId: evidence.taskId,
          workflow: { name: evidence.workflow.name, namespace: evidence.workflow.namespace },
        },
        internalParameters: { maestro: attemptFields(evidence, outputsDigest) },
        resolvedDependencies,
      },
      runDetails: {
        builder: { id: builderId },
        metadata: {
          finishedOn: new Date(evidence.finishedAt).toISOString(),
          invocationId: `${evidence.runId}/${evidence.attemptId}`,
          startedOn: new Date(evidence.startedAt).toISOString(),
        },
      },
    },
    predicateType: SLSA_PROVENANCE_V1,
    subject,
  };
}

/** Maestro's fields of an attempt's statement, keys in canonical order (the optional ones too). */
function attemptFields(evidence: AttemptEvidence, outputsDigest: string): MaestroAttemptFields {
  const { policy } = evidence;
  return compact({
    approvalDigest: evidence.approvalDigest || undefined,
    attempt: evidence.attempt,
    attemptId: evidence.attemptId,
    cache: compact({ hit: evidence.cache.hit, key: evidence.cache.key }),
    cost: sortedShallow(evidence.cost),
    definitionDigest: evidence.definitionDigest,
    exitCode: evidence.exitCode,
    image: sortedShallow(evidence.image),
    isolation: sortedShallow(evidence.isolation),
    kind: 'attempt',
    outputsDigest,
    placement: sortedShallow(evidence.placement),
    policy: compact({
      bundleDigest: policy.bundleDigest,
      decisionIds: [...policy.decisionIds],
      off: policy.off,
    }),
    reattemptOf: sortedShallow(evidence.reattemptOf),
    runId: evidence.runId,
    runner: evidence.runner,
    status: evidence.status,
    taskId: evidence.taskId,
  }) as MaestroAttemptFields;
}

/** A copy of a flat evidence object with its keys sorted (they are few, and plain names). */
function sortedShallow<T extends object>(value: T | undefined): T | undefined {
  if (!value) return undefined;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) out[key] = (value as Record<string, unknown>)[key];
  return out as T;
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
