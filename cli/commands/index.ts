/**
 * Every command of `maestro`, each loaded only when it runs. A command's file imports what its
 * action needs (the engine, the server, policy, Sigstore: over a thousand modules together), and
 * loading them all made `maestro --help` and `maestro validate` pay for `maestro server`. So the
 * top-level help is drawn from this table (name, help term, description), and only the command
 * named on the command line registers itself for real, with its options, subcommands and action.
 * The table repeats each command's term and description for that reason alone;
 * `commands.test.ts` fails when it drifts from what the command itself declares.
 */
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';

type Register = (program: Command, context: CliContext) => void;

export interface CommandEntry {
  readonly name: string;
  /** How the top-level help lists it: the name, ` [options]` when it has any, its arguments. */
  readonly term: string;
  readonly description: string;
  readonly load: () => Promise<Register>;
}

export const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'policy',
    term: 'policy',
    description: 'build, test and explain the OPA policies checked before every task',
    load: async () => (await import('./policy.ts')).registerPolicy,
  },
  {
    name: 'audit',
    term: 'audit',
    description: 'export and verify the policy decision log',
    load: async () => (await import('./audit.ts')).registerAudit,
  },
  {
    name: 'run',
    term: 'run [options] [manifest]',
    description: 'Run a workflow end to end on this machine, with a live view of its tasks',
    load: async () => (await import('./run.ts')).registerRun,
  },
  {
    name: 'budgets',
    term: 'budgets',
    description: "Set and show namespaces' budgets and quotas",
    load: async () => (await import('./budgets.ts')).registerBudgets,
  },
  {
    name: 'usage',
    term: 'usage',
    description: 'Report what namespaces, workflows and tasks cost',
    load: async () => (await import('./usage.ts')).registerUsage,
  },
  {
    name: 'runs',
    term: 'runs',
    description: 'List, inspect, cancel and retry runs',
    load: async () => (await import('./runs.ts')).registerRuns,
  },
  {
    name: 'replay',
    term: 'replay [options] <run>',
    description: "Re-execute a run's tasks with their recorded inputs and compare outputs by hash",
    load: async () => (await import('./replay.ts')).registerReplay,
  },
  {
    name: 'validate',
    term: 'validate [options] <paths...>',
    description: 'Check manifests and report every problem with its file, line and column',
    load: async () => (await import('./validate.ts')).registerValidate,
  },
  {
    name: 'compile',
    term: 'compile [options] <file>',
    description: 'Compile one manifest into its Plan (digest, tasks in topological order, edges)',
    load: async () => (await import('./compile.ts')).registerCompile,
  },
  {
    name: 'graph',
    term: 'graph [options] <file>',
    description: "Draw a manifest's task graph (DAG) as Mermaid or Graphviz dot",
    load: async () => (await import('./graph.ts')).registerGraph,
  },
  {
    name: 'verify',
    term: 'verify [options] <bundle>',
    description: 'verify a receipt bundle (.sigstore.json) offline: signature, signer and artifact digests',
    load: async () => (await import('./verify.ts')).registerVerify,
  },
  {
    name: 'receipts',
    term: 'receipts [options] <run>',
    description: "list a run's signed provenance receipts, and export them with -o",
    load: async () => (await import('./receipts.ts')).registerReceipts,
  },
  {
    name: 'disclose',
    term: 'disclose [options] <run>',
    description: "pack a run's artifacts, receipts, plan, policy decisions and approval under a signed index",
    load: async () => (await import('./disclose.ts')).registerDisclose,
  },
  {
    name: 'app',
    term: 'app [options]',
    description: 'Run the GitHub App: compile on push, approval gates, dispatch, check runs',
    load: async () => (await import('./app.ts')).registerApp,
  },
  {
    name: 'server',
    term: 'server [options]',
    description: 'Run the control plane: the REST API, the worker and the GitHub App in one process',
    load: async () => (await import('./server.ts')).registerServer,
  },
  {
    name: 'tokens',
    term: 'tokens',
    description: 'Create, list and revoke API tokens for `maestro server`',
    load: async () => (await import('./tokens.ts')).registerTokens,
  },
  {
    name: 'tasks',
    term: 'tasks',
    description:
      "List, describe, lock and test the tasks a workflow can use: built-in, the repository's own, shared catalogs",
    load: async () => (await import('./tasks.ts')).registerTasks,
  },
  {
    name: 'image',
    term: 'image',
    description: 'sign and verify container images in an OCI registry',
    load: async () => (await import('./image.ts')).registerImage,
  },
  {
    name: 'sbom',
    term: 'sbom',
    description: 'make, store, query and compare CycloneDX SBOMs of releases and images',
    load: async () => (await import('./sbom.ts')).registerSbom,
  },
  {
    name: 'sig-dev-server',
    term: 'sig-dev-server [options]',
    description:
      'Run the SIG reference server: every version of the ingest, claims and runbook-trigger contracts',
    load: async () => (await import('./sig-dev-server.ts')).registerSigDevServer,
  },
  {
    name: 'sig-contract-check',
    term: 'sig-contract-check [options]',
    description: 'Fail on a breaking change to the SIG contracts (schemas/sig) since a base ref',
    load: async () => (await import('./sig-contract-check.ts')).registerSigContractCheck,
  },
  {
    name: 'sig-link-receipts',
    term: 'sig-link-receipts [options] <run>',
    description: "Link a run's signed receipts to the SIG claims its tasks made (claimId outputs)",
    load: async () => (await import('./sig-link-receipts.ts')).registerSigLinkReceipts,
  },
];

/** The command a command line runs (`maestro help <command>` included), if it names one we have. */
export function commandNamed(argv: readonly string[]): CommandEntry | undefined {
  const words = argv.filter((a) => !a.startsWith('-'));
  const name = words[0] === 'help' ? words[1] : words[0];
  return COMMANDS.find((c) => c.name === name);
}

/**
 * Registers the command `argv` runs for real, and every other one as a listing only: enough for
 * the top-level help and for commander's "did you mean" on a misspelt name. `all` registers
 * every command for real (the drift test).
 */
export async function registerCommands(
  program: Command,
  context: CliContext,
  argv: readonly string[],
  all = false,
): Promise<void> {
  const wanted = commandNamed(argv);
  const terms = new Map<string, string>();
  for (const entry of COMMANDS) {
    if (all || entry === wanted) (await entry.load())(program, context);
    else {
      program.command(entry.name).description(entry.description);
      terms.set(entry.name, entry.term);
    }
  }
  const help = program.createHelp();
  program.configureHelp({
    subcommandTerm: (cmd) => terms.get(cmd.name()) ?? help.subcommandTerm(cmd),
  });
}
