/**
 * The operator's image policy (docs/supply-chain.md): per namespace (`*` for every namespace
 * without its own entry), a mode (`enforce` or `warn`) and rules that name which keys or keyless
 * identities must have signed the images whose references match a pattern. An enforced namespace
 * refuses an image no rule names (fail closed); the first matching rule decides.
 */
import { InputError } from '../../core/index.ts';
import type { TrustedIdentity } from '../verify.ts';
import type { ImageTrust } from './image-signature.ts';

export type ImagePolicyMode = 'enforce' | 'warn';

export interface ImageRule {
  /** Glob over `registry/repository`: `*` within one path segment, `**` across segments. */
  pattern: string;
  trust: ImageTrust;
}

export interface NamespaceImagePolicy {
  mode: ImagePolicyMode;
  rules: ImageRule[];
}

export interface ImagePolicy {
  namespaces: Record<string, NamespaceImagePolicy>;
  /** Registries reached over plain HTTP besides loopback ones. */
  insecureRegistries: string[];
}

export interface PolicyFiles {
  /** Reads a file the policy names (a PEM key, a trusted_root.json), relative to the config file. */
  read(path: string): string;
}

function invalid(where: string, message: string, hint?: string): InputError {
  return new InputError('image_policy_invalid', `imagePolicy.${where}: ${message}`, hint ? { hint } : {});
}

const isMapping = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function strings(value: unknown, where: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string'))
    throw invalid(where, 'must be a list of strings');
  return value as string[];
}

function parseIdentities(value: unknown, where: string, files: PolicyFiles): TrustedIdentity[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw invalid(where, 'must be a list of { subject, issuer, trustedRoot }');
  return value.map((entry, i) => {
    if (!isMapping(entry) || typeof entry.subject !== 'string' || typeof entry.issuer !== 'string')
      throw invalid(`${where}[${i}]`, 'needs `subject` and `issuer` strings (and `trustedRoot`, a file)');
    if (typeof entry.trustedRoot !== 'string')
      throw invalid(
        `${where}[${i}].trustedRoot`,
        'must name a Sigstore trusted_root.json file',
        'verification stays offline',
      );
    return {
      subjectAlternativeName: entry.subject,
      issuer: entry.issuer,
      trustedRoot: JSON.parse(files.read(entry.trustedRoot)) as unknown,
    };
  });
}

function parseRule(value: unknown, where: string, files: PolicyFiles): ImageRule {
  if (!isMapping(value) || typeof value.images !== 'string')
    throw invalid(where, 'each rule needs `images` (a reference pattern) and `keys` or `identities`');
  const publicKeys = strings(value.keys, `${where}.keys`).map((path) => files.read(path));
  const identities = parseIdentities(value.identities, `${where}.identities`, files);
  if (publicKeys.length === 0 && identities.length === 0)
    throw invalid(
      where,
      'names no key and no identity',
      'a rule that trusts no one would refuse every image',
    );
  return { pattern: value.images, trust: { publicKeys, identities } };
}

/** Parses the `imagePolicy` section of the operator's runners file; keys and roots are read now. */
export function parseImagePolicy(section: unknown, files: PolicyFiles): ImagePolicy {
  if (!isMapping(section)) throw invalid('', 'must be a mapping with `namespaces`');
  if (!isMapping(section.namespaces)) throw invalid('namespaces', 'must be a mapping of namespace names');
  const namespaces: Record<string, NamespaceImagePolicy> = {};
  for (const [name, entry] of Object.entries(section.namespaces)) {
    const where = `namespaces.${name}`;
    if (!isMapping(entry)) throw invalid(where, 'must be a mapping with `mode` and `rules`');
    if (entry.mode !== 'enforce' && entry.mode !== 'warn')
      throw invalid(`${where}.mode`, 'must be `enforce` or `warn`');
    if (!Array.isArray(entry.rules)) throw invalid(`${where}.rules`, 'must be a list');
    namespaces[name] = {
      mode: entry.mode,
      rules: entry.rules.map((rule, i) => parseRule(rule, `${where}.rules[${i}]`, files)),
    };
  }
  return { namespaces, insecureRegistries: strings(section.insecureRegistries, 'insecureRegistries') };
}

function globToRegExp(pattern: string): RegExp {
  const body = pattern
    .split('**')
    .map((part) =>
      part
        .split('*')
        .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
        .join('[^/]*'),
    )
    .join('.*');
  return new RegExp(`^${body}$`);
}

/** The namespace's policy (its own entry, else `*`), or undefined when images are not checked there. */
export function namespacePolicy(policy: ImagePolicy, namespace: string): NamespaceImagePolicy | undefined {
  return policy.namespaces[namespace] ?? policy.namespaces['*'];
}

export function matchRule(rules: ImageRule[], repository: string): ImageRule | undefined {
  return rules.find((rule) => globToRegExp(rule.pattern).test(repository));
}
