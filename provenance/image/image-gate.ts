/**
 * createImageGate: the ImageGate port (core/ports/image-gate.ts) over an image policy and a
 * registry. Every checked image gets one decision recorded (through `record`, the runtime's
 * decision log) before the runner acts on it; a decision that cannot be recorded refuses the image.
 */
import { randomUUID } from 'node:crypto';
import {
  digestOf,
  isMaestroError,
  type AttemptImage,
  type ImageCheck,
  type ImageCheckRequest,
  type ImageGate,
} from '../../core/index.ts';
import { ImageError, ImageReason } from './image-errors.ts';
import { matchRule, namespacePolicy, type ImagePolicy } from './image-policy.ts';
import {
  parseImageReference,
  pinnedReference,
  repositoryOf,
  type ImageReference,
} from './image-reference.ts';
import { verifyImage } from './image-signature.ts';
import type { RegistryClient } from './registry-client.ts';
import type { VerifiedSigner } from '../verify.ts';

/** One image decision, in the decision log's shape (policy/decision-log). */
export interface ImageDecisionRecord {
  decisionId: string;
  time: string;
  runId: string;
  taskId: string;
  attempt: number;
  deliveryId: null;
  /** Digest of { namespace, image, digest }: what was decided about. */
  inputDigest: string;
  /** Digest of the image policy in force. */
  bundleDigest: string;
  allow: boolean;
  unavailable: boolean;
  reasons: string[];
}

export interface ImageGateOptions {
  policy: ImagePolicy;
  client: RegistryClient;
  record(decision: ImageDecisionRecord): Promise<void>;
  now?: () => Date;
}

function signerName(signer: VerifiedSigner): string {
  return signer.kind === 'key'
    ? signer.keyFingerprint
    : `${signer.subjectAlternativeName} (${signer.issuer})`;
}

export function createImageGate(options: ImageGateOptions): ImageGate {
  const { policy, client } = options;
  const now = options.now ?? (() => new Date());
  // Keys by fingerprint-free content: the digest changes whenever the policy does.
  const policyDigest = digestOf(JSON.parse(JSON.stringify(policy)) as unknown);

  async function decide(
    request: ImageCheckRequest,
    outcome: ImageCheck,
    reason: string,
  ): Promise<ImageCheck> {
    const decisionId = randomUUID();
    const decision: ImageDecisionRecord = {
      decisionId,
      time: now().toISOString(),
      runId: request.runId,
      taskId: request.taskId,
      attempt: request.attempt,
      deliveryId: null,
      inputDigest: digestOf({
        namespace: request.namespace,
        image: request.image,
        digest: outcome.image.digest ?? null,
      }),
      bundleDigest: policyDigest,
      allow: outcome.allowed,
      unavailable: reason === ImageReason.registryUnavailable,
      reasons: [`image ${outcome.image.verification}: ${reason}`],
    };
    try {
      await options.record(decision);
    } catch (error) {
      return refusal(
        request.image,
        outcome.image.digest,
        ImageReason.registryUnavailable,
        `the image decision could not be recorded: ${(error as Error).message}`,
        true,
      );
    }
    return { ...outcome, image: { ...outcome.image, decisionId } } as ImageCheck;
  }

  async function digestIfAny(ref: ImageReference): Promise<string | undefined> {
    return client.resolve(ref).then(
      (m) => m.digest,
      () => undefined,
    );
  }

  return {
    async check(request) {
      const ns = namespacePolicy(policy, request.namespace);
      if (!ns)
        return {
          allowed: true,
          pinned: request.image,
          image: { reference: request.image, verification: 'unchecked' },
        };
      let ref: ImageReference;
      try {
        ref = parseImageReference(request.image);
      } catch (error) {
        return decide(
          request,
          refusal(request.image, undefined, ImageReason.referenceInvalid, (error as Error).message, false),
          ImageReason.referenceInvalid,
        );
      }
      const rule = matchRule(ns.rules, repositoryOf(ref));
      let failure: { reason: string; message: string; retryable: boolean };
      if (rule) {
        try {
          const verified = await verifyImage(client, ref, rule.trust);
          const image: AttemptImage = {
            reference: request.image,
            digest: verified.digest,
            verification: 'verified',
            signer: signerName(verified.signer),
          };
          return decide(request, { allowed: true, pinned: verified.image, image }, 'verified');
        } catch (error) {
          failure = {
            reason: error instanceof ImageError ? error.reason : ImageReason.registryUnavailable,
            message: (error as Error).message,
            retryable: isMaestroError(error) ? error.retryable : true,
          };
        }
      } else
        failure = {
          reason: ImageReason.notInPolicy,
          message: `no rule of the image policy for namespace ${request.namespace} names ${repositoryOf(ref)}`,
          retryable: false,
        };
      const digest = ref.digest ?? (await digestIfAny(ref));
      if (ns.mode === 'warn') {
        const image: AttemptImage = {
          reference: request.image,
          ...(digest ? { digest } : {}),
          verification: 'warned',
        };
        const pinned = digest ? pinnedReference(ref, digest) : request.image;
        return decide(
          request,
          { allowed: true, pinned, image, warning: `${failure.reason}: ${failure.message}` },
          failure.reason,
        );
      }
      return decide(
        request,
        refusal(request.image, digest, failure.reason, failure.message, failure.retryable),
        failure.reason,
      );
    },
  };
}

function refusal(
  reference: string,
  digest: string | undefined,
  reason: string,
  message: string,
  retryable: boolean,
): ImageCheck {
  return {
    allowed: false,
    reason,
    message,
    retryable,
    image: { reference, ...(digest ? { digest } : {}), verification: 'refused' },
  };
}
