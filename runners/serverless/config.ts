/**
 * Operator configuration of the serverless runner (docs/runners.md, "Serverless functions"): which
 * AWS Lambda Invoke endpoint, which function each task invokes, where the signing credentials are.
 * Validated whole here, so a bad section fails when the runners file is read, naming the key.
 */
import { isLoopbackHost } from '../../core/index.ts';
import { invalidRunnerConfig, isMapping } from '../factory.ts';

export interface ServerlessRunnerConfig {
  /** Base URL of the Lambda Invoke API: `https://lambda.<region>.amazonaws.com`, or the emulator's. */
  endpoint: string;
  /** Region the requests are signed for (SigV4). Default `us-east-1`. */
  region: string;
  /** The function every task invokes unless `functions` names one for it. */
  function?: string;
  /** Task id → function name (or ARN), overriding `function`. */
  functions: Record<string, string>;
  /**
   * A JSON file in the AWS `credential_process` format (`AccessKeyId`, `SecretAccessKey`, optional
   * `SessionToken`), read at every invoke so rotated keys are picked up. Never a value in this file.
   */
  credentialsFile: string;
  /** The longest an invoke is waited for (ms), whatever the task's timeout. Default 900 000 (Lambda's cap). */
  timeoutMs: number;
  /** Invokes in flight at once (the function's reserved concurrency; 1 for the emulator). Default 16. */
  concurrency: number;
  /** Re-sends of one invoke after throttling, a 5xx or a broken connection (same idempotency key). Default 2. */
  retries: number;
}

const KEYS = new Set([
  'endpoint',
  'region',
  'function',
  'functions',
  'credentialsFile',
  'timeoutMs',
  'concurrency',
  'retries',
]);

/** The event carries the task's secrets: only TLS, or a loopback emulator, may carry it. */
function validEndpoint(value: unknown): string {
  if (typeof value !== 'string' || value === '')
    throw invalidRunnerConfig(
      '`serverless.endpoint` is required',
      'e.g. endpoint: https://lambda.eu-west-1.amazonaws.com',
    );
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalidRunnerConfig(`\`serverless.endpoint\` is not a URL: ${value}`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname)))
    throw invalidRunnerConfig(
      '`serverless.endpoint` must be https (plain http only on a loopback address)',
      "the event holds the task's secrets, which must not cross a network unencrypted",
    );
  return value.replace(/\/+$/, '');
}

function positiveInt(section: Record<string, unknown>, key: string, fallback: number, min = 1): number {
  const value = section[key];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min)
    throw invalidRunnerConfig(`\`serverless.${key}\` must be a whole number of at least ${min}`);
  return value;
}

function functionsOf(section: Record<string, unknown>): Record<string, string> {
  const functions = section.functions ?? {};
  if (!isMapping(functions))
    throw invalidRunnerConfig('`serverless.functions` must be a mapping of task id to function name');
  for (const [task, name] of Object.entries(functions))
    if (typeof name !== 'string' || name === '')
      throw invalidRunnerConfig(`\`serverless.functions.${task}\` must be a function name`);
  return functions as Record<string, string>;
}

export function parseServerlessConfig(section: Record<string, unknown>): ServerlessRunnerConfig {
  for (const key of Object.keys(section))
    if (!KEYS.has(key))
      throw invalidRunnerConfig(`unknown key \`serverless.${key}\``, `the keys are ${[...KEYS].join(', ')}`);
  const fn = section.function;
  if (fn !== undefined && (typeof fn !== 'string' || fn === ''))
    throw invalidRunnerConfig('`serverless.function` must be a function name');
  const functions = functionsOf(section);
  if (fn === undefined && Object.keys(functions).length === 0)
    throw invalidRunnerConfig(
      '`serverless` needs `function` or `functions`',
      'name the function tasks invoke, e.g. function: maestro-task',
    );
  if (typeof section.credentialsFile !== 'string' || section.credentialsFile === '')
    throw invalidRunnerConfig(
      '`serverless.credentialsFile` is required',
      'a JSON file in the credential_process format: { "Version": 1, "AccessKeyId": …, "SecretAccessKey": …, "SessionToken": … }',
    );
  const region = section.region ?? 'us-east-1';
  if (typeof region !== 'string' || !/^[a-z0-9-]+$/.test(region))
    throw invalidRunnerConfig('`serverless.region` must be a region name such as eu-west-1');
  return {
    endpoint: validEndpoint(section.endpoint),
    region,
    ...(fn === undefined ? {} : { function: fn as string }),
    functions,
    credentialsFile: section.credentialsFile,
    timeoutMs: positiveInt(section, 'timeoutMs', 900_000),
    concurrency: positiveInt(section, 'concurrency', 16),
    retries: positiveInt(section, 'retries', 2, 0),
  };
}

/** The function a task invokes: its own entry in `functions`, else `function`. */
export function functionFor(config: ServerlessRunnerConfig, taskId: string): string | undefined {
  return config.functions[taskId] ?? config.function;
}
