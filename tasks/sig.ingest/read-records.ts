// The records of an ingest: inline, or read from a workspace file (JSON array or NDJSON).
import { readFile } from 'node:fs/promises';

import { TaskError, workspaceFile } from '../../sdk/index.ts';
import type { SigIngest } from '../../core/index.ts';

type Rec = Record<string, unknown>;

/** `records` or the file `file` names; `artifacts:<task>/<path>` reads an earlier task's artifact. */
export async function readRecords(
  inputs: { records?: readonly Rec[]; file?: string; producer?: string },
  workspace: string,
  artifactsDir: string | undefined,
): Promise<SigIngest.Record[]> {
  if ((inputs.records === undefined) === (inputs.file === undefined))
    throw new TaskError('sig_records_missing', 'give exactly one of records and file', { fault: 'user' });
  const list =
    inputs.records ??
    parseRecords(await readFile(locate(inputs.file as string, workspace, artifactsDir), 'utf8'));
  const producer = inputs.producer ?? 'maestro';
  return list.map(
    (r) =>
      (r.producer === undefined && r.source === undefined
        ? { ...r, producer: { name: producer } }
        : r) as SigIngest.Record,
  );
}

function locate(file: string, workspace: string, artifactsDir: string | undefined): string {
  if (!file.startsWith('artifacts:')) return workspaceFile(workspace, file, '/file');
  if (!artifactsDir)
    throw new TaskError(
      'sig_records_missing',
      `/file: ${file} names an artifact, and this task receives none`,
      {
        hint: 'add the producing task to needs: and declare the file in its artifacts:',
      },
    );
  // The same check as for the workspace: the path stays inside the artifacts folder.
  return workspaceFile(artifactsDir, file.slice('artifacts:'.length), '/file');
}

function parseRecords(text: string): Rec[] {
  const trimmed = text.trim();
  try {
    const parsed: unknown = trimmed.startsWith('[')
      ? JSON.parse(trimmed)
      : trimmed
          .split('\n')
          .filter((line) => line.trim() !== '')
          .map((line) => JSON.parse(line) as unknown);
    if (!Array.isArray(parsed) || parsed.some((r) => r === null || typeof r !== 'object' || Array.isArray(r)))
      throw new Error('not a list of JSON objects');
    return parsed as Rec[];
  } catch (error) {
    throw new TaskError(
      'sig_records_invalid',
      `/file: not a JSON array or NDJSON of records (${(error as Error).message})`,
      {
        fault: 'user',
      },
    );
  }
}
