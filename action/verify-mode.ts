import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { info, error as annotateError, setFailed, setOutput, summary } from '@actions/core';
import { UsageError } from '../core/index.ts';
import {
  ProvenanceError,
  bundledTrustedRoot,
  verifyBundle,
  verifyDisclosure,
  type TrustedIdentity,
  type VerifiedSigner,
} from '../provenance/index.ts';
import type { ActionInputs } from './inputs.ts';
import { cell } from './markdown.ts';
import type { ActionEnvironment } from './environment.ts';

/** A receipt bundle larger than this is refused unread (a receipt is a few kilobytes). */
const MAX_BUNDLE_BYTES = 16 * 1024 * 1024;

interface Pinned {
  publicKey?: string;
  identity?: Omit<TrustedIdentity, 'trustedRoot'> & { trustedRoot?: unknown };
  /** For people: what was pinned. */
  describe: string;
}

interface Checked {
  file: string;
  kind: 'receipt' | 'disclosure';
  ok: boolean;
  detail: string;
}

/**
 * Mode `verify`: every receipt (`*.sigstore.json`) and disclosure bundle (`*.tgz`) under
 * `receipts-dir` (or that one file) is verified offline against the pinned `key` or keyless
 * identity, with provenance/'s verifier (`maestro verify`, `maestro disclose verify`). Fails
 * closed: nothing pinned, nothing found, or any bundle rejected fails the step.
 */
export async function verifyMode(inputs: ActionInputs, env: ActionEnvironment): Promise<void> {
  // Whatever stops verification early leaves `verified=false`, never an empty output a workflow
  // condition could read as "not false".
  setOutput('verified', 'false');
  setOutput('count', '0');
  const pinned = pinnedSigner(inputs, env.cwd);
  const files = bundleFiles(inputs.receiptsDir);
  if (files.length === 0)
    throw new UsageError(`input "receipts-dir": no *.sigstore.json or *.tgz under ${inputs.receiptsDir}`, {
      hint: 'point it at the directory mode `run` wrote (its `receipts-dir` output), or at one bundle',
    });
  const checked: Checked[] = [];
  for (const file of files) checked.push(await verifyOne(file, pinned));
  const display = (f: string) => relative(env.cwd, f) || f;
  for (const c of checked) {
    if (c.ok) info(`verified ${display(c.file)} (${c.kind}): ${c.detail}`);
    else annotateError(`${c.kind} ${display(c.file)} REJECTED: ${c.detail}`);
  }
  const good = checked.filter((c) => c.ok).length;
  setOutput('verified', good === checked.length ? 'true' : 'false');
  setOutput('count', String(good));
  if (env.hasSummary) await summary.addRaw(verifySummary(checked, pinned, display)).write();
  if (good !== checked.length)
    setFailed(
      `${checked.length - good} of ${checked.length} bundle(s) failed verification against ${pinned.describe}`,
    );
}

/** The key (PEM text, or a path to a PEM file) or the keyless identity; neither is an error. */
function pinnedSigner(inputs: ActionInputs, cwd: string): Pinned {
  const hasIdentity = inputs.certificateIdentity !== '' || inputs.certificateOidcIssuer !== '';
  if (inputs.key !== '' && hasIdentity)
    throw new UsageError(
      'give either input "key" or "certificate-identity" with "certificate-oidc-issuer", not both',
    );
  if (inputs.key !== '') {
    const pem = inputs.key.trimStart().startsWith('-----BEGIN')
      ? inputs.key
      : readText(inputs.key, cwd, 'key');
    return { publicKey: pem, describe: 'the pinned key' };
  }
  if (hasIdentity) {
    if (inputs.certificateIdentity === '' || inputs.certificateOidcIssuer === '')
      throw new UsageError('inputs "certificate-identity" and "certificate-oidc-issuer" go together');
    return {
      identity: {
        subjectAlternativeName: inputs.certificateIdentity,
        issuer: inputs.certificateOidcIssuer,
        ...(inputs.trustedRoot !== ''
          ? { trustedRoot: JSON.parse(readText(inputs.trustedRoot, cwd, 'trusted-root')) as unknown }
          : {}),
      },
      describe: `${inputs.certificateIdentity} (${inputs.certificateOidcIssuer})`,
    };
  }
  // Fail closed: a bundle's own key proves only that it is consistent, not who made it.
  throw new UsageError(
    'mode "verify" needs a pinned signer: input "key" (a PEM public key), or "certificate-identity" and "certificate-oidc-issuer"',
    {
      hint: 'a bundle checked against its own key proves nothing about who made it, so the Action never does that',
    },
  );
}

async function verifyOne(file: string, pinned: Pinned): Promise<Checked> {
  const kind = file.endsWith('.tgz') ? 'disclosure' : 'receipt';
  try {
    if (kind === 'disclosure') {
      const report = await verifyDisclosure(readFileSync(file), {
        ...(pinned.publicKey ? { publicKey: pinned.publicKey } : {}),
        ...(pinned.identity ? { trustedIdentity: pinned.identity } : {}),
        allowUnpinned: false,
      });
      return {
        file,
        kind,
        ok: true,
        detail: `run ${report.runId}, ${report.receipts} receipt(s), ${report.artifacts} artifact(s), signer ${signerText(report.signer)}`,
      };
    }
    if (lstatSync(file).size > MAX_BUNDLE_BYTES)
      throw new ProvenanceError('bundle_malformed', `larger than ${MAX_BUNDLE_BYTES} bytes`);
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(file, 'utf8'));
    } catch (cause) {
      throw new ProvenanceError('bundle_malformed', 'not JSON', { cause });
    }
    const verified = verifyBundle(json, {
      ...(pinned.publicKey ? { publicKey: pinned.publicKey } : {}),
      ...(pinned.identity
        ? {
            trustedIdentity: {
              ...pinned.identity,
              trustedRoot: pinned.identity.trustedRoot ?? bundledTrustedRoot(),
            },
          }
        : {}),
    });
    return {
      file,
      kind,
      ok: true,
      detail: `statement ${verified.payloadDigest}, signer ${signerText(verified.signer)}`,
    };
  } catch (error) {
    if (!(error instanceof ProvenanceError)) throw error;
    return { file, kind, ok: false, detail: `${error.reason}: ${error.message}` };
  }
}

/** Every `*.sigstore.json` and `*.tgz` below `dir` (symlinks are not followed), or `dir` itself when it is a file. */
function bundleFiles(path: string): string[] {
  let stat;
  try {
    stat = lstatSync(path);
  } catch {
    throw new UsageError(`input "receipts-dir": no such file or directory: ${path}`);
  }
  if (stat.isFile()) return [path];
  if (!stat.isDirectory()) return [];
  const found: string[] = [];
  for (const entry of readdirSync(path, { withFileTypes: true }).sort((a, b) =>
    a.name.localeCompare(b.name),
  )) {
    const child = join(path, entry.name);
    if (entry.isDirectory()) found.push(...bundleFiles(child));
    else if (entry.isFile() && (entry.name.endsWith('.sigstore.json') || entry.name.endsWith('.tgz')))
      found.push(child);
  }
  return found;
}

function readText(path: string, cwd: string, input: string): string {
  try {
    return readFileSync(isAbsolute(path) ? path : resolve(cwd, path), 'utf8');
  } catch (cause) {
    throw new UsageError(`input "${input}": cannot read ${path}: ${(cause as Error).message}`);
  }
}

function signerText(signer: VerifiedSigner): string {
  return signer.kind === 'key'
    ? `key ${signer.keyFingerprint}${signer.development ? ' (development key)' : ''}`
    : `${signer.subjectAlternativeName} issued by ${signer.issuer}`;
}

function verifySummary(checked: readonly Checked[], pinned: Pinned, display: (f: string) => string): string {
  const good = checked.filter((c) => c.ok).length;
  const out = [
    '## Maestro: verify',
    '',
    `${good} of ${checked.length} bundle(s) verified against ${pinned.describe}.`,
    '',
    '| file | kind | result |',
    '| --- | --- | --- |',
  ];
  for (const c of checked)
    out.push(`| \`${cell(display(c.file))}\` | ${c.kind} | ${c.ok ? '✅' : '❌'} ${cell(c.detail)} |`);
  return out.join('\n') + '\n';
}
