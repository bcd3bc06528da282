import { isAbsolute, join, resolve } from 'node:path';
import { getInput, getMultilineInput } from '@actions/core';
import { UsageError } from '../core/index.ts';

export const Mode = { validate: 'validate', run: 'run', verify: 'verify' } as const;
export type Mode = (typeof Mode)[keyof typeof Mode];
export const Format = { text: 'text', json: 'json' } as const;
export type Format = (typeof Format)[keyof typeof Format];

export interface ActionInputs {
  paths: string[];
  mode: Mode;
  format: Format;
  /** Mode `run`: the workflow manifests to run (default: every Workflow found under `paths`). */
  workflows: string[];
  /** Mode `run`: `key=value` workflow parameters, given to every run. */
  params: Record<string, string>;
  /** Mode `run`: where receipts and disclosure bundles are written; mode `verify`: what is verified. */
  receiptsDir: string;
  /** Mode `verify`: what to trust (a PEM public key, or a keyless certificate identity). */
  key: string;
  certificateIdentity: string;
  certificateOidcIssuer: string;
  /** Mode `verify`: a Sigstore trusted_root.json path (default: the snapshot shipped with sigstore-js). */
  trustedRoot: string;
}

export interface InputContext {
  cwd: string;
  /** RUNNER_TEMP: the default receipts directory is under it. */
  runnerTemp: string;
}

/** Reads and checks the `with:` inputs (INPUT_* variables). A bad value names the input and the allowed values. */
export function readInputs(context: InputContext): ActionInputs {
  const paths = getMultilineInput('path').filter((p) => p.trim() !== '');
  const mode = getInput('mode') || Mode.validate;
  const format = getInput('format') || Format.text;
  if (!isOneOf(mode, Mode))
    throw new UsageError(`input "mode" must be one of: ${Object.values(Mode).join(', ')} (got "${mode}")`);
  if (!isOneOf(format, Format))
    throw new UsageError(
      `input "format" must be one of: ${Object.values(Format).join(', ')} (got "${format}")`,
    );
  const receiptsDir = getInput('receipts-dir') || join(context.runnerTemp, 'maestro-receipts');
  return {
    paths: paths.length > 0 ? paths : ['.'],
    mode,
    format,
    workflows: getMultilineInput('workflow').filter((p) => p.trim() !== ''),
    params: parseParams(getMultilineInput('params')),
    receiptsDir: isAbsolute(receiptsDir) ? receiptsDir : resolve(context.cwd, receiptsDir),
    key: getInput('key'),
    certificateIdentity: getInput('certificate-identity'),
    certificateOidcIssuer: getInput('certificate-oidc-issuer'),
    trustedRoot: getInput('trusted-root'),
  };
}

/** `params`: one `key=value` per line (blank lines and `#` comments skipped); the engine converts to the declared types. */
export function parseParams(lines: readonly string[]): Record<string, string> {
  const params: Record<string, string> = {};
  for (const raw of lines) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) throw new UsageError(`input "params": expected key=value, got "${line}"`);
    params[line.slice(0, eq).trim()] = line.slice(eq + 1);
  }
  return params;
}

function isOneOf<T extends Record<string, string>>(value: string, choices: T): value is T[keyof T] {
  return Object.values(choices).includes(value);
}
