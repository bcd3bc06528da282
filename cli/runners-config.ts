/**
 * The operator's runners configuration (docs/runners.md): one YAML or JSON file with a `container`
 * and/or `kubernetes` section, from `--runners <file>` or MAESTRO_RUNNERS_CONFIG. Each section goes
 * to its runner's factory, which validates it; every error names the file and the bad key, so a
 * typo never surfaces as a stack trace or as a runner silently missing.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { digestOf, InputError, isMaestroError, UsageError, type Plan, type Runner } from '../core/index.ts';
import {
  createContainerRunner,
  createKubernetesRunner,
  type ContainerRunnerConfig,
  type KubernetesRunnerConfig,
} from '../runners/index.ts';
import type { CliIo } from './io.ts';

const SECTIONS = ['container', 'kubernetes'] as const;
/** Runner kinds `--runner` accepts: local always; the others when the runners config has them. */
export const RUNNER_KINDS = ['local', ...SECTIONS] as const;

/** The `local` section: how the always-present local runner isolates tasks. */
export interface LocalRunnerConfig {
  /** `bwrap` (default): every task in the sandbox, or refused; `none`: trusted tasks unsandboxed. */
  sandbox?: 'bwrap' | 'none';
  /** `none`: no task of this runner has the network, trusted or not. */
  network?: 'on' | 'none';
}

function checkLocalSection(file: string, value: unknown): LocalRunnerConfig {
  if (!isMapping(value)) throw invalid(file, '`local` must be a mapping');
  for (const key of Object.keys(value))
    if (key !== 'sandbox' && key !== 'network')
      throw invalid(file, `unknown key \`local.${key}\``, 'the local section has `sandbox` and `network`');
  if (value.sandbox !== undefined && value.sandbox !== 'bwrap' && value.sandbox !== 'none')
    throw invalid(
      file,
      `\`local.sandbox\` must be \`bwrap\` or \`none\`, got ${JSON.stringify(value.sandbox)}`,
      '`none` runs trusted tasks without a sandbox (stated in their logs and receipts); untrusted ones are refused',
    );
  if (value.network !== undefined && value.network !== 'on' && value.network !== 'none')
    throw invalid(file, `\`local.network\` must be \`on\` or \`none\`, got ${JSON.stringify(value.network)}`);
  return value as LocalRunnerConfig;
}

function invalid(file: string, message: string, hint?: string): InputError {
  return new InputError('runner_config_invalid', `${file}: ${message}`, hint ? { hint } : {});
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The file named by the flag, else MAESTRO_RUNNERS_CONFIG, else none (only the local runner). */
export function runnersConfigPath(flag: string | undefined, io: CliIo): string | undefined {
  const chosen = flag ?? io.env.MAESTRO_RUNNERS_CONFIG;
  if (chosen === undefined || chosen === '') return undefined;
  return resolve(io.cwd, chosen);
}

/**
 * Reads and checks the file's shape (the factories check the values). Unknown top-level keys are
 * refused: a misspelt `containers:` would otherwise leave the runner unregistered.
 */
export function readRunnersConfig(file: string): {
  local?: LocalRunnerConfig;
  container?: ContainerRunnerConfig;
  kubernetes?: KubernetesRunnerConfig;
} {
  if (!existsSync(file))
    throw new UsageError(`the runners config ${file} does not exist`, {
      hint: 'check --runners or MAESTRO_RUNNERS_CONFIG',
    });
  let doc: unknown;
  try {
    doc = parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw invalid(file, `not valid YAML or JSON: ${(error as Error).message.split('\n')[0]}`);
  }
  if (!isMapping(doc))
    throw invalid(file, 'expected a mapping with `local`, `container` and/or `kubernetes` sections');
  for (const key of Object.keys(doc))
    if (key !== 'local' && !(SECTIONS as readonly string[]).includes(key))
      throw invalid(file, `unknown key \`${key}\``, 'the sections are `local`, `container` and `kubernetes`');
  if (doc.local !== undefined) checkLocalSection(file, doc.local);
  for (const section of SECTIONS) {
    const value = doc[section];
    if (value === undefined) continue;
    if (!isMapping(value)) throw invalid(file, `\`${section}\` must be a mapping`);
    const classes = value.resourceClasses;
    if (!isMapping(classes))
      throw invalid(
        file,
        `\`${section}.resourceClasses\` must be a mapping of resource class names`,
        'tasks ask for `small` unless the manifest says otherwise, e.g. resourceClasses: { small: {} }',
      );
    for (const [name, rc] of Object.entries(classes))
      if (!isMapping(rc)) throw invalid(file, `\`${section}.resourceClasses.${name}\` must be a mapping`);
    if (section === 'kubernetes' && value.namespaces !== undefined && !isMapping(value.namespaces))
      throw invalid(file, '`kubernetes.namespaces` must be a mapping');
  }
  return doc as {
    local?: LocalRunnerConfig;
    container?: ContainerRunnerConfig;
    kubernetes?: KubernetesRunnerConfig;
  };
}

/** The `local` section of the runners config, or {} when there is no file or no section. */
export function readLocalRunnerConfig(file: string | undefined): LocalRunnerConfig {
  return file === undefined ? {} : (readRunnersConfig(file).local ?? {});
}

/** Builds the configured runners; a factory's InputError gets the file name in front. */
export function createConfiguredRunners(file: string | undefined): Runner[] {
  if (file === undefined) return [];
  const config = readRunnersConfig(file);
  const runners: Runner[] = [];
  try {
    if (config.container) runners.push(createContainerRunner(config.container));
    if (config.kubernetes) runners.push(createKubernetesRunner(config.kubernetes));
  } catch (error) {
    for (const runner of runners) void runner.close?.();
    if (isMaestroError(error) && error.code === 'runner_config_invalid')
      throw invalid(file, error.message, error.hint);
    if (isMaestroError(error)) throw error;
    throw invalid(file, (error as Error).message);
  }
  return runners;
}

/**
 * `--runner <kind>`: every task runs on that runner, so the same manifest runs in containers or on
 * Kubernetes without change. The result is a different plan, so it gets its own digests (each
 * changed task's definitionDigest, which the cache key uses, and the plan digest): receipts then
 * describe what actually ran. The compiled plan's digest is kept in the workflow label
 * `maestro.dev/source-plan-digest` so the run can still be traced to the manifest's plan.
 */
export function withRunner(plan: Plan, kind: string): Plan {
  const tasks = plan.tasks.map((task) => {
    if (task.runner === kind) return task;
    const { definitionDigest: _stale, ...rest } = task;
    const changed = { ...rest, runner: kind };
    return { ...changed, definitionDigest: digestOf(changed) };
  });
  const { digest: source, ...rest } = plan;
  const body = {
    ...rest,
    workflow: {
      ...plan.workflow,
      labels: { ...plan.workflow.labels, 'maestro.dev/source-plan-digest': source },
    },
    tasks,
  };
  return { ...body, digest: digestOf(body) };
}

/** Checks `--runner` names a kind this engine has. */
export function checkRunnerKind(kind: string, registered: readonly string[]): void {
  if (!(RUNNER_KINDS as readonly string[]).includes(kind))
    throw new UsageError(`--runner must be one of ${RUNNER_KINDS.join(', ')}, got ${kind}`);
  if (!registered.includes(kind))
    throw new UsageError(`--runner ${kind}: no ${kind} runner is configured`, {
      hint: `add a \`${kind}\` section to the runners config (--runners <file> or MAESTRO_RUNNERS_CONFIG)`,
    });
}
