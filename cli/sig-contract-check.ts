import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { promisify } from 'node:util';
import { InputError, SystemError } from '../core/index.ts';

const run = promisify(execFile);

export interface ContractCheckOptions {
  /** The repository (its working tree is what is checked). */
  repoDir: string;
  /** The ref to compare with; default the last release tag (`v*`), else `main`. */
  base?: string;
  /** The oasdiff binary. */
  oasdiff: string;
  contractsDir?: string;
}

export interface BreakingChange {
  /** The document compared (`ingest/v3/openapi.json`, or a payload: `ingest/v3/ingest.schema.json`). */
  document: string;
  /** oasdiff's rule id (`request-property-removed`), or `major-removed`. */
  rule: string;
  text: string;
}

export interface ContractCheckResult {
  base: string;
  /** Majors in both trees, compared. */
  compared: string[];
  /** Majors only in the working tree: new, nothing to break. */
  added: string[];
  breaking: BreakingChange[];
}

/**
 * Compares every SIG contract in the working tree with the same major at the base ref and lists
 * each breaking change: oasdiff on each OpenAPI document (its rules: removed or renamed fields,
 * narrowed types, new required fields, removed enum values, ...; warnings count), and the JSON
 * Schema check: each payload definition wrapped as the request body of a synthetic OpenAPI
 * document, so the same maintained rules judge definitions no operation names.
 * A major present at the base and gone from the tree is breaking too (N-2 needs it).
 */
export async function checkContracts(options: ContractCheckOptions): Promise<ContractCheckResult> {
  const contracts = options.contractsDir ?? 'schemas/sig';
  const base = options.base ?? (await defaultBase(options.repoDir));
  const work = await mkdtemp(join(tmpdir(), 'maestro-contracts-'));
  try {
    const baseDir = join(work, 'base');
    const headDir = join(work, 'head');
    await extractTree(options.repoDir, base, contracts, baseDir);
    await cp(join(options.repoDir, contracts), headDir, { recursive: true });
    const majors = async (dir: string) =>
      (await listFiles(dir)).filter((f) => f.endsWith('/openapi.json')).map(dirname);
    const baseMajors = await majors(baseDir);
    const headMajors = await majors(headDir);
    const result: ContractCheckResult = {
      base,
      compared: baseMajors.filter((m) => headMajors.includes(m)),
      added: headMajors.filter((m) => !baseMajors.includes(m)),
      breaking: baseMajors
        .filter((m) => !headMajors.includes(m))
        .map((m) => ({
          document: `${m}/openapi.json`,
          rule: 'major-removed',
          text: `${m} was removed; a released major stays`,
        })),
    };
    for (const major of result.compared) {
      const document = `${major}/openapi.json`;
      result.breaking.push(
        ...(await oasdiff(options.oasdiff, join(baseDir, document), join(headDir, document), document)),
      );
    }
    // Payloads of the compared majors, and the schemas every major shares (at the top).
    const payloads = (await listFiles(baseDir)).filter(
      (f) => f.endsWith('.schema.json') && (!f.includes('/') || result.compared.includes(dirname(f))),
    );
    for (const payload of payloads) {
      if (!existsSync(join(headDir, payload))) {
        result.breaking.push({ document: payload, rule: 'payload-removed', text: `${payload} was removed` });
        continue;
      }
      const [from, to] = await Promise.all([wrapPayload(baseDir, payload), wrapPayload(headDir, payload)]);
      result.breaking.push(...(await oasdiff(options.oasdiff, from, to, payload)));
    }
    return result;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function defaultBase(repoDir: string): Promise<string> {
  const tag = await run('git', ['describe', '--tags', '--abbrev=0', '--match', 'v*'], { cwd: repoDir }).catch(
    () => undefined,
  );
  return tag?.stdout.trim() || 'main';
}

/** The contracts folder as it is at `ref`, written to `target` (empty when the ref has none). */
async function extractTree(repoDir: string, ref: string, folder: string, target: string) {
  await run('git', ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], { cwd: repoDir }).catch(() => {
    throw new InputError('contract_base_unknown', `the base ${ref} is not a commit of ${repoDir}`, {
      hint: 'Pass --base <ref> (a release tag, main, or origin/main after a fetch).',
    });
  });
  const { stdout } = await run('git', ['ls-tree', '-r', '--name-only', ref, '--', folder], { cwd: repoDir });
  await mkdir(target, { recursive: true });
  for (const path of stdout.split('\n').filter(Boolean)) {
    const { stdout: text } = await run('git', ['show', `${ref}:${path}`], {
      cwd: repoDir,
      maxBuffer: 16 * 1024 * 1024,
    });
    const out = join(target, relative(folder, path));
    await mkdir(dirname(out), { recursive: true });
    await writeFile(out, text);
  }
}

/** An OpenAPI document with each of the payload's definitions as a request body. */
async function wrapPayload(root: string, payload: string): Promise<string> {
  const schema = JSON.parse(await readFile(join(root, payload), 'utf8')) as {
    $defs?: Record<string, unknown>;
  };
  const file = payload.split('/').at(-1)!;
  const refs = schema.$defs
    ? Object.keys(schema.$defs).map((name) => [name, `./${file}#/$defs/${name}`])
    : [['schema', `./${file}`]];
  const paths = Object.fromEntries(
    refs.map(([name, $ref]) => {
      const content = { 'application/json': { schema: { $ref } } };
      // A request body only: what SIG accepted in vN it must keep accepting. What readers of a
      // response must understand is judged in the OpenAPI documents, where responses are.
      return [
        `/${name}`,
        {
          post: {
            operationId: name,
            requestBody: { required: true, content },
            responses: { 204: { description: 'stored' } },
          },
        },
      ];
    }),
  );
  const out = join(root, dirname(payload), `.payload-${file.replace('.schema.json', '')}.openapi.json`);
  await writeFile(out, JSON.stringify({ openapi: '3.1.0', info: { title: payload, version: '0' }, paths }));
  return out;
}

async function oasdiff(bin: string, from: string, to: string, document: string): Promise<BreakingChange[]> {
  let stdout: string;
  try {
    ({ stdout } = await run(bin, ['breaking', from, to, '--format', 'json'], {
      maxBuffer: 16 * 1024 * 1024,
    }));
  } catch (error) {
    const e = error as { code?: string; stderr?: string };
    if (e.code === 'ENOENT')
      throw new SystemError('oasdiff_missing', `oasdiff is not at ${bin}`, {
        hint: 'Run `bash scripts/setup/oasdiff.sh` (or npm run setup), or set MAESTRO_OASDIFF.',
      });
    throw new InputError(
      'contract_unreadable',
      `oasdiff could not compare ${document}: ${(e.stderr ?? String(error)).trim()}`,
    );
  }
  const findings = (JSON.parse(stdout || '[]') ?? []) as Array<{
    id: string;
    text: string;
    level: number;
    operation?: string;
    path?: string;
  }>;
  // Level 2 (warning) counts: oasdiff rates a removed request property a warning.
  return findings
    .filter((f) => f.level >= 2)
    .map((f) => ({ document, rule: f.id, text: f.path ? `${f.operation} ${f.path}: ${f.text}` : f.text }));
}

async function listFiles(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name)));
}
