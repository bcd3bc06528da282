import { invalidRunnerConfig, type RunnerFactory } from '../factory.ts';
import { createLocalRunner } from './local-runner.ts';

/**
 * The `local` section (optional): how the always-present local runner isolates tasks.
 * `sandbox`: `bwrap` (default: every task in the sandbox, or refused) or `none` (trusted tasks
 * unsandboxed, said in their logs and receipts); `network`: `on` or `none` (no task of this
 * runner has the network, trusted or not); `hostAccess`: `granted` lets the steps that say
 * `hostAccess: true` run on the host, unsandboxed (trusted runs only; stated in their logs and
 * receipts), `denied` (default) refuses them.
 */
export const localRunnerFactory: RunnerFactory = {
  create(section, { baseEnv, hiddenPaths, localSandbox }) {
    for (const key of Object.keys(section))
      if (key !== 'sandbox' && key !== 'network' && key !== 'hostAccess')
        throw invalidRunnerConfig(
          `unknown key \`local.${key}\``,
          'the local section has `sandbox`, `network` and `hostAccess`',
        );
    const { sandbox, network, hostAccess } = section;
    if (sandbox !== undefined && sandbox !== 'bwrap' && sandbox !== 'none')
      throw invalidRunnerConfig(
        `\`local.sandbox\` must be \`bwrap\` or \`none\`, got ${JSON.stringify(sandbox)}`,
        '`none` runs trusted tasks without a sandbox (stated in their logs and receipts); untrusted ones are refused',
      );
    if (network !== undefined && network !== 'on' && network !== 'none')
      throw invalidRunnerConfig(
        `\`local.network\` must be \`on\` or \`none\`, got ${JSON.stringify(network)}`,
      );
    if (hostAccess !== undefined && hostAccess !== 'granted' && hostAccess !== 'denied')
      throw invalidRunnerConfig(
        `\`local.hostAccess\` must be \`granted\` or \`denied\`, got ${JSON.stringify(hostAccess)}`,
        '`granted` lets tasks that say `hostAccess: true` run on the host (trusted runs only); the default is `denied`',
      );
    return createLocalRunner({
      baseEnv,
      sandbox: sandbox ?? localSandbox,
      hiddenPaths,
      ...(network ? { network } : {}),
      ...(hostAccess ? { hostAccess } : {}),
    });
  },
};
