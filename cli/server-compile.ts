/**
 * The server as the compiler of `validate` and `run` with `--server`: each manifest is posted to
 * POST /v1/workflows (with `dryRun=true` for validate, so nothing is stored) and the server's
 * diagnostics and plan go into the same reports the local compiler fills, so the output is the
 * local one. Files are found and read here as locally; one that cannot be read, or a symlink out
 * of the repository, is never sent (workspace/'s validateManifests reports it).
 */
import { readFileSync } from 'node:fs';
import type { ApiBody, Diagnostic, Plan, Severity } from '../core/index.ts';
import type { CompileFn, CompileOutcome, ManifestFile } from '../workspace/index.ts';
import { ServerProblemError, type ServerClient } from './server-client.ts';

function toDiagnostic(d: ApiBody.Diagnostic): Diagnostic {
  return {
    code: d.code,
    severity: d.severity as Severity,
    message: d.message,
    ...(d.hint === null ? {} : { hint: d.hint }),
    pointer: d.pointer,
    line: d.line,
    column: d.column,
    endLine: d.endLine,
    endColumn: d.endColumn,
  };
}

async function compileOnServer(
  client: ServerClient,
  text: string,
  options: { dryRun: boolean; source?: ApiBody.SourceRef | undefined },
): Promise<CompileOutcome> {
  const { dryRun, source } = options;
  try {
    const answer = await client.request<ApiBody.WorkflowCreated>('POST', '/v1/workflows', {
      // With a source, the JSON form, which carries it; the manifest text is sent unchanged.
      ...(source
        ? { json: { manifest: text, source } satisfies ApiBody.WorkflowCreate }
        : { text: { body: text, contentType: 'application/yaml' } }),
      ...(dryRun ? { query: { dryRun: true } } : {}),
    });
    const plan = answer.plan as unknown as Plan;
    return {
      plan,
      diagnostics: answer.diagnostics.map(toDiagnostic),
      kind: plan.workflow.kind,
      name: answer.name,
    };
  } catch (error) {
    // An invalid manifest is the server's verdict, not a failure of the command.
    if (error instanceof ServerProblemError && error.problem.code === 'manifest_invalid')
      return { diagnostics: (error.problem.diagnostics ?? []).map(toDiagnostic) };
    throw error;
  }
}

/**
 * Posts every readable manifest and returns a CompileFn answering from the server's verdicts,
 * for validateManifests / compileOne. `dryRun: false` stores the valid ones (for `run`), with
 * `source` (cli/server-source.ts) recorded beside them.
 */
export async function serverCompiler(
  client: ServerClient,
  files: readonly ManifestFile[],
  options: { dryRun: boolean; source?: ApiBody.SourceRef | undefined },
): Promise<CompileFn> {
  const outcomes = new Map<string, CompileOutcome>();
  for (const file of files) {
    if (file.outsideRoot) continue;
    let text: string;
    try {
      text = readFileSync(file.path, 'utf8');
    } catch {
      continue;
    }
    outcomes.set(file.display, await compileOnServer(client, text, options));
  }
  return (_source, display) => outcomes.get(display) ?? { diagnostics: [] };
}
