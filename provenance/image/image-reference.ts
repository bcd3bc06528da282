/**
 * Image references as container engines read them: `[registry/]repository[:tag][@sha256:…]`. A
 * first component with a dot, a colon or `localhost` is the registry; otherwise Docker Hub (and a
 * one-part name is under `library/`), as Docker and Podman resolve short names with that default.
 */
import { ImageError, ImageReason } from './image-errors.ts';

export interface ImageReference {
  registry: string;
  repository: string;
  tag?: string;
  /** `sha256:<hex>` when the reference pins one. */
  digest?: string;
}

const DOCKER_HUB = 'registry-1.docker.io';
const REPOSITORY = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;

export function parseImageReference(text: string): ImageReference {
  const invalid = (why: string) =>
    new ImageError(ImageReason.referenceInvalid, `image reference ${JSON.stringify(text)} ${why}`, {
      hint: 'write registry/repository:tag or registry/repository@sha256:<64 hex>',
    });
  let rest = text.trim();
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw invalid('has a digest that is not sha256:<64 lowercase hex>');
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw invalid('has an invalid tag');
  }
  const parts = rest.split('/');
  const first = parts[0] ?? '';
  const hasRegistry =
    parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost');
  const registry = hasRegistry ? first : DOCKER_HUB;
  let repository = hasRegistry ? parts.slice(1).join('/') : rest;
  if (!hasRegistry && parts.length === 1) repository = `library/${repository}`;
  if (!REPOSITORY.test(repository)) throw invalid('has an invalid repository name');
  if (!tag && !digest) tag = 'latest';
  return { registry, repository, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/** `registry/repository` (what policies match and pinned references start with). */
export function repositoryOf(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}`;
}

/** The reference a runner runs: always by digest, never by tag. */
export function pinnedReference(ref: ImageReference, digest: string): string {
  return `${repositoryOf(ref)}@${digest}`;
}

export function formatImageReference(ref: ImageReference): string {
  return `${repositoryOf(ref)}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}
