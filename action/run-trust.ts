import { readFileSync } from 'node:fs';
import type { RunTrust } from '../core/index.ts';

/**
 * How far the Action trusts the code it runs: a pull request from a fork (GitHub's
 * `pull_request*` events whose head repository is not this repository) is `untrusted`, so no
 * task has the network (the rule every runner applies); so is a pull request whose event file
 * cannot be read (fail closed). Any other event (push, workflow_dispatch, schedule, a same-
 * repository pull request) runs the repository's own code: `trusted`.
 */
export function runTrustFromEvent(eventName: string | undefined, eventPath: string | undefined): RunTrust {
  if (!eventName?.startsWith('pull_request')) return 'trusted';
  try {
    const event = JSON.parse(readFileSync(eventPath ?? '', 'utf8')) as {
      pull_request?: { head?: { repo?: { full_name?: string } | null } };
      repository?: { full_name?: string };
    };
    const head = event.pull_request?.head?.repo?.full_name;
    const base = event.repository?.full_name;
    return head !== undefined && base !== undefined && head === base ? 'trusted' : 'untrusted';
  } catch {
    return 'untrusted';
  }
}
