import type { ManifestReport } from '../../workspace/index.ts';
import { toJsonReport } from '../../workspace/index.ts';

/** `--format json`: the workspace's JSON report shape, pretty-printed. */
export function renderJsonReport(reports: readonly ManifestReport[]): string {
  return JSON.stringify(toJsonReport(reports), null, 2) + '\n';
}
