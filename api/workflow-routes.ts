/** POST /v1/workflows, GET /v1/workflows, GET /v1/workflows/{digest}. */
import { compileManifest } from '../compiler/index.ts';
import { hasErrors, type ApiBody } from '../core/index.ts';
import { toJsonReport } from '../workspace/index.ts';
import type { ApiContext } from './api-context.ts';
import type { StoredWorkflow } from './api-store.ts';
import { assertNamespace, type Caller } from './auth.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import { ApiError } from './problem.ts';

const MANIFEST_FILE = 'manifest.yaml';

/** Diagnostics in exactly the shape `maestro validate --format json` prints them. */
function jsonDiagnostics(diagnostics: Parameters<typeof toJsonReport>[0][number]['diagnostics']) {
  return toJsonReport([{ file: MANIFEST_FILE, valid: true, diagnostics, source: '' }]).files[0]!.diagnostics;
}

export async function createWorkflow(
  ctx: ApiContext,
  caller: Caller,
  body: string | ApiBody.WorkflowCreate,
  options: { dryRun?: boolean } = {},
): Promise<{ status: 200 | 201; body: ApiBody.WorkflowCreated }> {
  const manifest = typeof body === 'string' ? body : body.manifest;
  // An object is stored as its JSON text (JSON is YAML), so one compiler reads both forms.
  const text = typeof manifest === 'string' ? manifest : JSON.stringify(manifest, null, 2);
  const result = compileManifest(Buffer.from(text, 'utf8'), {
    file: MANIFEST_FILE,
    catalog: ctx.runtime.catalog,
  });
  const diagnostics = jsonDiagnostics(result.diagnostics);
  if (!result.plan || hasErrors(result.diagnostics))
    throw new ApiError(422, 'manifest_invalid', `the manifest has ${diagnostics.length} problem(s)`, {
      hint: 'the diagnostics say what and where, as `maestro validate --format json` does',
      diagnostics,
    });
  const plan = result.plan;
  assertNamespace(caller, plan.workflow.namespace);
  const answer = {
    digest: plan.digest,
    name: plan.workflow.name,
    namespace: plan.workflow.namespace,
    diagnostics,
    plan: plan as unknown as Record<string, unknown>,
  };
  // `maestro validate --server`: the server's verdict, with nothing stored.
  if (options.dryRun) return { status: 200, body: answer };
  const { created } = await ctx.apiStore.putWorkflow({
    digest: plan.digest,
    name: plan.workflow.name,
    namespace: plan.workflow.namespace,
    kind: plan.workflow.kind,
    manifest: text,
    plan,
    source: typeof body === 'string' ? null : (body.source ?? null),
    createdAt: ctx.clock.now(),
  });
  // The DAG view's layout is computed now, off the event loop, so the first viewer finds it.
  ctx.layouts.warm(plan);
  return { status: created ? 201 : 200, body: answer };
}

function summary(w: StoredWorkflow): ApiBody.WorkflowSummary {
  return {
    digest: w.digest,
    name: w.name,
    namespace: w.namespace,
    kind: w.kind,
    createdAt: new Date(w.createdAt).toISOString(),
    source: w.source,
  };
}

export async function listWorkflows(
  ctx: ApiContext,
  caller: Caller,
  query: ApiBody.WorkflowListQuery,
): Promise<ApiBody.WorkflowList> {
  if (query.namespace !== undefined) assertNamespace(caller, query.namespace);
  const limit = query.limit ?? 100;
  const cursor = decodeCursor<{ s: number }>(query.cursor, { s: 'number' });
  const rows = await ctx.apiStore.listWorkflows({
    ...(query.namespace !== undefined ? { namespace: query.namespace } : {}),
    ...(query.name !== undefined ? { name: query.name } : {}),
    ...(caller.namespaces.length ? { namespaces: [...caller.namespaces] } : {}),
    ...(cursor ? { beforeSeq: cursor.s } : {}),
    limit: limit + 1,
  });
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    items: page.map(summary),
    nextCursor: rows.length > limit && last ? encodeCursor({ s: last.seq }) : null,
  };
}

export async function findWorkflow(ctx: ApiContext, caller: Caller, digest: string): Promise<StoredWorkflow> {
  const workflow = await ctx.apiStore.getWorkflow(digest);
  if (!workflow)
    throw new ApiError(404, 'workflow_not_found', `no workflow with digest ${digest} is stored`, {
      hint: 'POST the manifest to /v1/workflows first; its answer carries the digest',
    });
  assertNamespace(caller, workflow.namespace);
  return workflow;
}

export async function getWorkflow(
  ctx: ApiContext,
  caller: Caller,
  digest: string,
): Promise<ApiBody.WorkflowDetail> {
  const w = await findWorkflow(ctx, caller, digest);
  return { ...summary(w), manifest: w.manifest, plan: w.plan as unknown as Record<string, unknown> };
}
