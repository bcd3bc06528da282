import type { AttemptEvidence, Attestor, RunEvidence, SignedReceipt } from '../core/index.ts';
import { InputError } from '../core/index.ts';
import { compileMaestroFieldsCheck } from './maestro-fields.ts';
import { runFields, runStatementBytes } from './run-statement-bytes.ts';
import { signPayload, signStatement } from './sign.ts';
import type { ProvenanceSigner } from './signer.ts';
import { buildAttemptStatement, type ReceiptStatement } from './statement.ts';

export const DEFAULT_BUILDER_ID = 'https://summit-maestro.dev/builders/control-plane/v1';

export interface CreateAttestorOptions {
  signer: ProvenanceSigner;
  /** The control plane's builder id; never taken from evidence or task output. */
  builderId?: string;
}

/** A receipt with what an engine or surface needs to show it: the warning of a dev key. */
export interface MaestroAttestor extends Attestor {
  readonly signer: ProvenanceSigner;
  readonly builderId: string;
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/**
 * The engine's Attestor: builds the in-toto statement from the evidence the engine recorded and
 * signs it. The builder id comes from here and the ids from the engine, so a task (which only
 * influenced its outputs and artifact bytes) cannot name another run or change builder or source.
 */
export function createAttestor(options: CreateAttestorOptions): MaestroAttestor {
  const builderId = options.builderId ?? DEFAULT_BUILDER_ID;
  const check = compileMaestroFieldsCheck();
  // Never sign a receipt whose Maestro fields break the published schema.
  const checkFields = (fields: unknown) => {
    const problem = check(fields);
    if (problem)
      throw new InputError(
        'evidence_invalid',
        `receipt fields do not match receipt-maestro.schema.json: ${problem}`,
      );
  };
  const signChecked = (statement: ReceiptStatement) => {
    checkFields(statement.predicate.buildDefinition.internalParameters.maestro);
    return signStatement(statement, options.signer);
  };
  return {
    signer: options.signer,
    builderId,
    attestAttempt: async (evidence: AttemptEvidence): Promise<SignedReceipt> => {
      checkAttemptEvidence(evidence);
      return signChecked(buildAttemptStatement(evidence, builderId));
    },
    attestRun: async (evidence: RunEvidence): Promise<SignedReceipt> => {
      checkDigest('planDigest', evidence.planDigest);
      for (const [key, digest] of Object.entries(evidence.attemptReceipts))
        checkDigest(`attemptReceipts.${key}`, digest);
      checkFields(runFields(evidence));
      // Written as bytes, not built as an object: its 2 × N entries set the run's peak memory.
      return signPayload(runStatementBytes(evidence, builderId), options.signer);
    },
  };
}

/** Rejects evidence a receipt must not vouch for: bad digests or artifact paths escaping their dir. */
function checkAttemptEvidence(evidence: AttemptEvidence): void {
  checkDigest('planDigest', evidence.planDigest);
  checkDigest('definitionDigest', evidence.definitionDigest);
  if (evidence.codeDigest !== undefined) checkDigest('codeDigest', evidence.codeDigest);
  for (const [name, digest] of Object.entries(evidence.inputDigests))
    checkDigest(`inputDigests.${name}`, digest);
  const seen = new Set<string>();
  for (const file of evidence.artifacts) {
    checkDigest(`artifacts[${file.path}]`, file.digest);
    const parts = file.path.split('/');
    if (
      file.path.startsWith('/') ||
      file.path.includes('\\') ||
      parts.some((p) => p === '..' || p === '.' || p === '')
    )
      throw new InputError(
        'evidence_invalid',
        `artifact path ${JSON.stringify(file.path)} is not a clean relative path`,
      );
    if (seen.has(file.path))
      throw new InputError('evidence_invalid', `artifact ${file.path} is listed twice`);
    seen.add(file.path);
  }
}

function checkDigest(field: string, digest: string): void {
  if (!DIGEST.test(digest))
    throw new InputError(
      'evidence_invalid',
      `${field} must be sha256:<64 hex>, got ${JSON.stringify(digest)}`,
    );
}
