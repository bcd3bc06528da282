import { sha256Digest } from '../core/index.ts';
import { ProvenanceError, RejectReason } from './errors.ts';
import {
  ARTIFACT_SUBJECT_PREFIX,
  OUTPUTS_SUBJECT,
  outputsDocument,
  type InTotoStatement,
  type MaestroAttemptFields,
} from './statement.ts';

export interface NewOutputs {
  /** Artifact files by path relative to the attempt's artifacts dir: bytes or `sha256:` digest. */
  artifacts?: Record<string, Uint8Array | string>;
  /** The task's outputs map; compared through the outputs document's digest. */
  outputs?: Record<string, string>;
}

export type OutputComparison =
  | { name: string; result: 'equal'; digest: string }
  | { name: string; result: 'different'; recorded: string; replayed: string }
  | { name: string; result: 'missing'; recorded: string }
  | { name: string; result: 'new'; replayed: string };

export interface ComparisonReport {
  equal: boolean;
  outputs: OutputComparison[];
}

/**
 * The replay half of SM-114: compares a replayed attempt's outputs with what its receipt recorded,
 * per output: hash-equal, different, missing from the replay, or new in the replay.
 * `receipt` is the verified attempt statement (see verifyBundle).
 */
export function compareOutputs(receipt: InTotoStatement, replay: NewOutputs): ComparisonReport {
  const recorded = new Map<string, string>();
  for (const subject of receipt.subject) {
    const hex = subject.digest?.sha256;
    if (subject.name?.startsWith(ARTIFACT_SUBJECT_PREFIX) && hex)
      recorded.set(subject.name.slice(ARTIFACT_SUBJECT_PREFIX.length), `sha256:${hex}`);
  }
  const maestro = (
    receipt.predicate as { buildDefinition?: { internalParameters?: { maestro?: MaestroAttemptFields } } }
  )?.buildDefinition?.internalParameters?.maestro;
  if (!maestro || maestro.kind !== 'attempt')
    throw new ProvenanceError(
      RejectReason.statementMalformed,
      'the receipt is not a Maestro attempt receipt',
    );
  const results: OutputComparison[] = [];
  if (replay.outputs !== undefined) {
    const replayed = sha256Digest(outputsDocument(replay.outputs));
    results.push(compareOne(OUTPUTS_SUBJECT, maestro.outputsDigest, replayed));
  }
  const replayedArtifacts = new Map<string, string>();
  for (const [path, value] of Object.entries(replay.artifacts ?? {}))
    replayedArtifacts.set(path, typeof value === 'string' ? value : sha256Digest(value));
  for (const path of [...new Set([...recorded.keys(), ...replayedArtifacts.keys()])].sort())
    results.push(
      compareOne(`${ARTIFACT_SUBJECT_PREFIX}${path}`, recorded.get(path), replayedArtifacts.get(path)),
    );
  return { equal: results.every((r) => r.result === 'equal'), outputs: results };
}

function compareOne(
  name: string,
  recorded: string | undefined,
  replayed: string | undefined,
): OutputComparison {
  if (recorded === undefined) return { name, result: 'new', replayed: replayed! };
  if (replayed === undefined) return { name, result: 'missing', recorded };
  return recorded === replayed
    ? { name, result: 'equal', digest: recorded }
    : { name, result: 'different', recorded, replayed };
}
