/**
 * The run statement's payload, its canonical JSON (RFC 8785) written straight into one Buffer.
 *
 * Why not `canonicalJson(buildRunStatement(…))`: a run's statement lists every attempt receipt
 * twice (its subjects and `attemptReceipts`), 2 MB of JSON at 10,000 attempts, and that path held
 * the statement, its sorted copy, the JSON string and its UTF-8 Buffer at once, at the run's close,
 * where `maestro run`'s peak memory is set (bench/run/RESULTS.md). Here the attempt entries are
 * written one by one into a Buffer of the exact size; the small members go through canonicalJson
 * as before. The bytes are the same as the object builder's canonical JSON (run-statement-bytes.test.ts).
 */
import { canonicalJson, type RunEvidence } from '../core/index.ts';
import type { MaestroRunFields } from './statement.ts';
import {
  IN_TOTO_STATEMENT_V1,
  RUN_BUILD_TYPE,
  SLSA_PROVENANCE_V1,
  sourceDescriptor,
  toDigestSet,
} from './statement.ts';

const str = (value: string) => canonicalJson(value);

/** `canonicalJson(toDigestSet(digest))` (one member) without the object, for 10,000 subjects. */
function digestSet(digest: string): string {
  const at = digest.indexOf(':');
  if (at <= 0) return canonicalJson(toDigestSet(digest));
  return `{${str(digest.slice(0, at))}:${str(digest.slice(at + 1))}}`;
}

/** Maestro's fields of the run statement (for the schema check): the evidence's map, not a copy. */
export function runFields(evidence: RunEvidence): MaestroRunFields {
  return {
    kind: 'run',
    runId: evidence.runId,
    status: evidence.status,
    attemptReceipts: evidence.attemptReceipts,
    ...(evidence.policyOff ? { policy: { off: true as const } } : {}),
    ...(evidence.approvalDigest ? { approvalDigest: evidence.approvalDigest } : {}),
  };
}

/** `buildRunStatement(evidence, builderId)`'s canonical JSON as UTF-8, built without the object. */
export function runStatementBytes(evidence: RunEvidence, builderId: string): Buffer {
  const keys = Object.keys(evidence.attemptReceipts).sort();
  const digestOf = (key: string) => evidence.attemptReceipts[key]!;
  const [head, middle, tail] = skeleton(evidence, builderId);
  const receipt = (i: number) => `${i ? ',' : ''}${str(keys[i]!)}:${str(digestOf(keys[i]!))}`;
  const subject = (i: number) =>
    `${i ? ',' : ''}{"digest":${digestSet(digestOf(keys[i]!))},"name":${str(`receipt:${keys[i]!}`)}}`;
  // The plan stands in as the one subject of a run without attempts, as in buildRunStatement.
  const noSubject = `{"digest":${canonicalJson(toDigestSet(evidence.planDigest))},"name":"plan"}`;
  // Two passes over the entries (size, then write) rather than keeping their strings: each is
  // made twice, a few microseconds in all, and only the Buffer is ever whole.
  let size = Buffer.byteLength(head) + Buffer.byteLength(middle) + Buffer.byteLength(tail);
  for (let i = 0; i < keys.length; i++) size += Buffer.byteLength(receipt(i)) + Buffer.byteLength(subject(i));
  if (keys.length === 0) size += noSubject.length;
  const out = Buffer.allocUnsafe(size);
  let at = out.write(head, 0);
  for (let i = 0; i < keys.length; i++) at += out.write(receipt(i), at);
  at += out.write(middle, at);
  for (let i = 0; i < keys.length; i++) at += out.write(subject(i), at);
  if (keys.length === 0) at += out.write(noSubject, at);
  at += out.write(tail, at);
  if (at !== size) throw new Error(`run statement: wrote ${at} of ${size} bytes`);
  return out;
}

/**
 * The statement's JSON around its two lists, members in canonical order: up to the first entry of
 * `attemptReceipts`, from its end to the first subject, and after the last subject.
 */
function skeleton(evidence: RunEvidence, builderId: string): [string, string, string] {
  const maestro = runFields(evidence);
  const external = canonicalJson({
    params: evidence.params,
    planDigest: evidence.planDigest,
    workflow: { name: evidence.workflow.name, namespace: evidence.workflow.namespace },
  });
  const dependencies = canonicalJson([
    { digest: toDigestSet(evidence.planDigest), name: 'plan' },
    ...(evidence.source ? [sourceDescriptor(evidence.source)] : []),
  ]);
  const runDetails = canonicalJson({
    builder: { id: builderId },
    metadata: {
      finishedOn: new Date(evidence.finishedAt).toISOString(),
      invocationId: evidence.runId,
      startedOn: new Date(evidence.startedAt).toISOString(),
    },
  });
  // Maestro's fields in canonical order: approvalDigest < attemptReceipts < kind < policy < runId < status.
  const approval = maestro.approvalDigest ? `"approvalDigest":${str(maestro.approvalDigest)},` : '';
  const policy = maestro.policy ? `,"policy":${canonicalJson(maestro.policy)}` : '';
  const head =
    `{"_type":${str(IN_TOTO_STATEMENT_V1)},"predicate":{"buildDefinition":{"buildType":${str(RUN_BUILD_TYPE)},` +
    `"externalParameters":${external},"internalParameters":{"maestro":{${approval}"attemptReceipts":{`;
  const middle =
    `},"kind":"run"${policy},"runId":${str(maestro.runId)},"status":${str(maestro.status)}}},` +
    `"resolvedDependencies":${dependencies}},"runDetails":${runDetails}},` +
    `"predicateType":${str(SLSA_PROVENANCE_V1)},"subject":[`;
  return [head, middle, ']}'];
}
