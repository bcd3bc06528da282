/**
 * `maestro policy build|test|eval`: compile a repository's Rego (with the default rules) into a
 * wasm bundle and report its digest, run the Rego unit tests with opa, and explain the decision
 * for one task of a manifest.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { UsageError } from '../../core/index.ts';
import { resolveParams, withBeforeRun } from '../../engine/index.ts';
import {
  buildPolicyBundle,
  createPdp,
  defaultPolicyDir,
  findOpa,
  policyInputFor,
  readDefaultBundle,
  readPolicyBundleFile,
  testPolicy,
} from '../../policy/index.ts';
import { loadBuiltinCatalog } from '../../tasks/index.ts';
import { compileOne } from '../compile-one.ts';
import { parseParams } from '../config.ts';
import type { CliContext } from '../context.ts';
import { ExitCode } from '../exit-codes.ts';
import type { CliIo } from '../io.ts';
import { repeatable } from '../repeatable.ts';

const EXAMPLES = `
Examples:
  $ maestro policy build                 # default rules + .maestro/policy/*.rego -> .maestro/policy-bundle.tar.gz
  $ maestro policy test                  # opa test over the default and the repository's *_test.rego
  $ maestro policy eval --task export_bundle .maestro/workflows/nightly.yaml
  $ maestro policy eval --task fetch --param url=https://data.example.org/x .maestro/workflows/pull.yaml

Repository policies live in .maestro/policy/: Rego in package maestro.repo adding \`deny\` rules,
and config.json overriding the default allow-lists. docs/policy.md has the rules.`;

export function registerPolicy(program: Command, context: CliContext): void {
  const policy = program
    .command('policy')
    .description('build, test and explain the OPA policies checked before every task')
    .addHelpText('after', EXAMPLES);
  policy
    .command('build')
    .description('compile the default rules and the repository policy (.maestro/policy) to a wasm bundle')
    .argument('[dir]', 'repository root', '.')
    .option('--out <file>', 'bundle to write (default: <dir>/.maestro/policy-bundle.tar.gz)')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .action(async (dir: string, flags: { out?: string; format: string }) => {
      const root = resolve(context.io.cwd, dir);
      const repoDir = repoPolicyDir(root);
      const out = flags.out
        ? resolve(context.io.cwd, flags.out)
        : join(root, '.maestro', 'policy-bundle.tar.gz');
      mkdirSync(dirname(out), { recursive: true });
      const built = await buildPolicyBundle({
        opa: opaFor(context.io),
        defaultDir: defaultPolicyDir,
        repoDir,
        out,
      });
      const report = {
        bundle: built.path,
        digest: built.digest,
        rego: built.regoFiles,
        repoPolicy: repoDir ?? null,
      };
      context.io.stdout(
        flags.format === 'json'
          ? `${JSON.stringify(report, null, 2)}\n`
          : `built ${built.path}\ndigest ${built.digest}\nrego ${built.regoFiles.join(' ')}\n` +
              (repoDir ? '' : 'no .maestro/policy: the bundle holds the default rules only\n'),
      );
    });
  policy
    .command('test')
    .description('run the Rego unit tests (default and repository) with opa test')
    .argument('[dir]', 'repository root', '.')
    .action(async (dir: string) => {
      const root = resolve(context.io.cwd, dir);
      const result = await testPolicy({
        opa: opaFor(context.io),
        defaultDir: defaultPolicyDir,
        repoDir: repoPolicyDir(root),
      });
      context.io.stdout(result.output);
      if (!result.ok) context.exitCode = ExitCode.inputErrors;
    });
  policy
    .command('eval')
    .description('explain the policy decision for one task of a manifest: input, result, reasons')
    .argument('<manifest>', 'the manifest file')
    .requiredOption('--task <id>', 'the task id (as in the plan)')
    .option('--bundle <file>', 'a bundle from `maestro policy build` (default: the built-in default bundle)')
    .option('--actor <name>', 'who would run it', 'cli')
    .option(
      '--param <key=value>',
      'a workflow parameter, as `maestro run` takes it (repeatable): the hosts it names are judged',
      repeatable,
      [],
    )
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .action(
      async (
        manifest: string,
        flags: { task: string; bundle?: string; actor: string; param: string[]; format: string },
      ) => {
        const plan = await compileOne(manifest, context.io);
        if (!plan) {
          context.exitCode = ExitCode.inputErrors;
          return;
        }
        const task = plan.tasks.find((t) => t.id === flags.task);
        if (!task)
          throw new UsageError(`no task ${JSON.stringify(flags.task)} in ${manifest}`, {
            hint: `tasks: ${plan.tasks.map((t) => t.id).join(', ')}`,
          });
        // The task's `with` as the run would render it from these params (secrets stay unknown).
        const input = policyInputFor(plan, flags.task, {
          actor: flags.actor,
          catalog: await loadBuiltinCatalog(),
          resolvedWith: withBeforeRun(task, resolveParams(plan, parseParams(flags.param))),
        });
        const bundle = flags.bundle
          ? await readPolicyBundleFile(resolve(context.io.cwd, flags.bundle))
          : await readDefaultBundle();
        const result = (await createPdp(bundle)).evaluate(input);
        const explained = { input, bundle: { source: bundle.source, digest: bundle.digest }, result };
        context.io.stdout(
          flags.format === 'json' ? `${JSON.stringify(explained, null, 2)}\n` : renderText(explained),
        );
        if (!result.allow) context.exitCode = ExitCode.inputErrors;
      },
    );
}

function repoPolicyDir(root: string): string | undefined {
  const dir = join(root, '.maestro', 'policy');
  return existsSync(dir) ? dir : undefined;
}

function opaFor(io: CliIo): string {
  return findOpa({ home: io.env.HOME ?? homedir(), path: io.env.PATH, explicit: io.env.MAESTRO_OPA });
}

function renderText(e: {
  input: unknown;
  bundle: { source: string; digest: string };
  result: { allow: boolean; unavailable: boolean; reasons: string[] };
}): string {
  const verdict = e.result.allow ? 'ALLOW' : e.result.unavailable ? 'DENY (policy unavailable)' : 'DENY';
  const reasons = e.result.reasons.map((r) => `  - ${r}\n`).join('');
  return (
    `decision: ${verdict}\n${reasons ? `reasons:\n${reasons}` : ''}` +
    `bundle: ${e.bundle.source} (${e.bundle.digest})\ninput:\n${JSON.stringify(e.input, null, 2)}\n`
  );
}
