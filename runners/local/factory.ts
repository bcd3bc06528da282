import { invalidRunnerConfig, type RunnerFactory } from '../factory.ts';
import { createLocalRunner } from './local-runner.ts';

/**
 * The `local` section (optional): how the always-present local runner isolates tasks.
 * `sandbox`: `bwrap` (default: every task in the sandbox, or refused) or `none` (trusted tasks
 * unsandboxed, said in their logs and receipts); `network`: `on` or `none` (no task of this
 * runner has the network, trusted or not).
 */
export const localRunnerFactory: RunnerFactory = {
  create(section, { baseEnv, hiddenPaths, localSandbox }) {
    for (const key of Object.keys(section))
      if (key !== 'sandbox' && key !== 'network')
        throw invalidRunnerConfig(
          `unknown key \`local.${key}\``,
          'the local section has `sandbox` and `network`',
        );
    const { sandbox, network } = section;
    if (sandbox !== undefined && sandbox !== 'bwrap' && sandbox !== 'none')
      throw invalidRunnerConfig(
        `\`local.sandbox\` must be \`bwrap\` or \`none\`, got ${JSON.stringify(sandbox)}`,
        '`none` runs trusted tasks without a sandbox (stated in their logs and receipts); untrusted ones are refused',
      );
    if (network !== undefined && network !== 'on' && network !== 'none')
      throw invalidRunnerConfig(
        `\`local.network\` must be \`on\` or \`none\`, got ${JSON.stringify(network)}`,
      );
    return createLocalRunner({
      baseEnv,
      sandbox: sandbox ?? localSandbox,
      hiddenPaths,
      ...(network ? { network } : {}),
    });
  },
};
