/**
 * Runs kube-score (scripts/setup/kube-score.sh) over Kubernetes objects, offline, and turns its
 * JSON into findings: grade 1 (CRITICAL) is high severity, grade 5 (WARNING) medium; passed and
 * skipped checks are dropped.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { dump } from 'js-yaml';
import type { Finding } from './findings.ts';

const run = promisify(execFile);

export function kubeScoreBinary(): string {
  const path = join(process.env.GOBIN ?? join(homedir(), '.cache', 'maestro', 'bin'), 'kube-score');
  if (!existsSync(path))
    throw new Error(`kube-score is not installed at ${path}: run \`bash scripts/setup/kube-score.sh\``);
  return path;
}

interface Scored {
  object_name: string;
  type_meta: { kind: string };
  object_meta: { name: string };
  checks: Array<{
    check: { id: string };
    grade: number;
    skipped: boolean;
    comments: Array<{ path?: string; summary: string }> | null;
  }>;
}

const SEVERITY: Record<number, Finding['severity']> = { 1: 'high', 5: 'medium' };

export async function kubeScore(objects: object[]): Promise<Finding[]> {
  const dir = mkdtempSync(join(tmpdir(), 'maestro-hardening-'));
  try {
    const file = join(dir, 'objects.yaml');
    writeFileSync(file, objects.map((o) => dump(o, { noRefs: true })).join('---\n'));
    // kube-score exits 1 when it found a critical problem: its report is on stdout either way.
    const out = await run(kubeScoreBinary(), ['score', '--output-format', 'json', file], {
      maxBuffer: 32 << 20,
    }).catch((error: { stdout?: string; code?: number }) => {
      if (error.code === 1 && error.stdout) return { stdout: error.stdout };
      throw error;
    });
    const scored = JSON.parse(out.stdout) as Scored[];
    return scored.flatMap((o) =>
      o.checks
        .filter((c) => !c.skipped && SEVERITY[c.grade])
        .map((c) => ({
          check: c.check.id,
          resource: `${o.type_meta.kind}/${o.object_meta.name}`,
          severity: SEVERITY[c.grade]!,
          message: (c.comments ?? [])
            .map((m) => (m.path ? `(${m.path}) ${m.summary}` : m.summary))
            .join('; '),
        })),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
