/**
 * Runs the committed Action bundle the way the Actions runner does: plain `node dist/index.js`,
 * inputs as INPUT_* variables, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY pointing at files, cwd = the
 * workspace. The environment is built from scratch so nothing of the test process leaks in.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
export const actionBundle = join(repoRoot, 'action/dist/index.js');
const run = promisify(execFile);

export interface StepResult {
  code: number;
  stdout: string;
  outputs: Record<string, string>;
  summary: string;
  /** RUNNER_TEMP of this step. */
  runnerTemp: string;
}

export interface StepOptions {
  /** The workspace (GITHUB_WORKSPACE and cwd); default the repository. */
  workspace?: string;
  /** More environment (e.g. MAESTRO_SIGNING_KEY, GITHUB_EVENT_NAME). */
  env?: Record<string, string>;
  /**
   * Default true: run the bundle from a copy of the Action's checkout with no node_modules
   * anywhere above it, as `uses: <owner>/maestro@v1` gives the runner, so anything the bundle left
   * out of itself fails to load as it would on GitHub (from the repository, Node would find it in
   * node_modules). False: run action/dist/index.js where it is.
   */
  isolated?: boolean;
}

let isolatedBundle: string | undefined;

/** action/, policy/ and tasks/ copied once per test process: what the bundle reads beside itself. */
function isolatedCheckout(): string {
  if (isolatedBundle) return isolatedBundle;
  const checkout = mkdtempSync(join(tmpdir(), 'maestro-action-checkout-'));
  for (const folder of ['action', 'policy', 'tasks'])
    cpSync(join(repoRoot, folder), join(checkout, folder), { recursive: true });
  isolatedBundle = join(checkout, 'action/dist/index.js');
  return isolatedBundle;
}

export async function runActionStep(
  inputs: Record<string, string>,
  options: StepOptions = {},
): Promise<StepResult> {
  const dir = mkdtempSync(join(tmpdir(), 'maestro-action-'));
  const workspace = options.workspace ?? repoRoot;
  const outputFile = join(dir, 'output');
  const summaryFile = join(dir, 'summary');
  writeFileSync(outputFile, '');
  writeFileSync(summaryFile, '');
  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: process.env['HOME'] ?? dir,
    GITHUB_ACTIONS: 'true',
    GITHUB_WORKSPACE: workspace,
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    RUNNER_TEMP: dir,
    ...options.env,
  };
  for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.toUpperCase()}`] = value;
  const bundle = (options.isolated ?? true) ? isolatedCheckout() : actionBundle;
  const result = await run(process.execPath, [bundle], {
    cwd: workspace,
    env,
    maxBuffer: 16 << 20,
  }).then(
    (r) => ({ code: 0, stdout: r.stdout }),
    (e: { code: number; stdout: string }) => ({ code: e.code, stdout: e.stdout }),
  );
  return {
    ...result,
    outputs: parseOutputFile(readFileSync(outputFile, 'utf8')),
    summary: readFileSync(summaryFile, 'utf8'),
    runnerTemp: dir,
  };
}

/** GITHUB_OUTPUT holds `name<<DELIMITER\nvalue\nDELIMITER` records. */
function parseOutputFile(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^([^<]+)<<(.+)$/.exec(lines[i]!);
    if (!m) continue;
    const end = lines.indexOf(m[2]!, i + 1);
    outputs[m[1]!] = lines.slice(i + 1, end).join('\n');
    i = end;
  }
  return outputs;
}
