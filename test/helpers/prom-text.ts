/**
 * Parses Prometheus's text exposition format with Prometheus's own parser: the Go program in
 * test/tools/prom-text-check (expfmt), built once per content into ~/.cache/maestro/bin (Go's
 * build cache makes a rebuild quick; the first build fetches its modules from the Go module
 * proxy). A text the scraper would refuse throws with the parser's message.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const source = fileURLToPath(new URL('../tools/prom-text-check', import.meta.url));

export interface PromSample {
  label?: { name: string; value: string }[];
  counter?: { value: number | string };
  gauge?: { value: number | string };
  histogram?: { sampleCount: string; sampleSum: number | string; bucket?: unknown[] };
  summary?: { sampleCount: string; sampleSum: number | string };
}
export interface PromFamily {
  name: string;
  help?: string;
  type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';
  metric: PromSample[];
}

let binary: string | undefined;

/** The checker binary, built when missing (setup does it ahead: scripts/setup/prom-text-check.sh). */
export function promTextChecker(): string {
  if (binary) return binary;
  const hash = createHash('sha256');
  for (const file of ['main.go', 'go.mod', 'go.sum']) hash.update(readFileSync(join(source, file)));
  const dir = join(homedir(), '.cache/maestro/bin');
  const out = join(dir, `prom-text-check-${hash.digest('hex').slice(0, 12)}`);
  if (!existsSync(out)) {
    mkdirSync(dir, { recursive: true });
    execFileSync('go', ['build', '-trimpath', '-o', out, '.'], {
      cwd: source,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, GOFLAGS: '-buildvcs=false' },
    });
  }
  return (binary = out);
}

export function parsePromText(text: string): PromFamily[] {
  let stdout: string;
  try {
    stdout = execFileSync(promTextChecker(), {
      input: text,
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? '');
    throw new Error(`not Prometheus text format: ${stderr.trim() || (error as Error).message}`, {
      cause: error,
    });
  }
  return stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as PromFamily);
}

/** The labels of a sample as a plain object. */
export const labelsOf = (sample: PromSample): Record<string, string> =>
  Object.fromEntries((sample.label ?? []).map((l) => [l.name, l.value]));
