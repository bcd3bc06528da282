import type { CheckRunWrite } from './check-runs.ts';

export const APPROVAL_CHECK_NAME = 'maestro / approval';

/** One gated workflow's state, as the approval check run shows it. */
export interface GateRow {
  workflow: string;
  digest: string;
  result: {
    required: number;
    satisfied: boolean;
    approvers: { login: string }[];
    notCounted: { login: string; reason: string }[];
  };
  attestationDigest?: string;
}

/** The `maestro / approval` check run of one pull request head. */
export function renderApproval(pr: { number: number; headSha: string }, gates: GateRow[]): CheckRunWrite {
  const satisfied = gates.every((g) => g.result.satisfied);
  const rows = gates.map((g) => {
    const given = g.result.approvers.map((a) => `@${a.login}`).join(', ') || '—';
    const state = g.result.satisfied ? '✅ approved' : '⏳ waiting';
    return `| ${g.workflow} | \`${g.digest}\` | ${g.result.required} | ${g.result.approvers.length} (${given}) | ${state} | ${g.attestationDigest ? `\`${g.attestationDigest}\`` : '—'} |`;
  });
  const notCounted = gates.flatMap((g) =>
    g.result.notCounted.map((n) => `- ${g.workflow}: @${n.login}: ${n.reason}`),
  );
  const summary = [
    '| workflow | plan digest | required | given | state | attestation |',
    '|---|---|---|---|---|---|',
    ...rows,
    '',
    notCounted.length > 0 ? `**Not counted**\n\n${notCounted.join('\n')}` : '',
    '',
    'An approval binds the plan digest: it counts when its review is on the head commit, or on an earlier commit whose plan digest for that workflow equals the current one.',
  ].join('\n');
  return {
    name: APPROVAL_CHECK_NAME,
    headSha: pr.headSha,
    externalId: `approval:${pr.number}:${pr.headSha}`,
    status: 'completed',
    conclusion: satisfied ? 'success' : 'action_required',
    title: satisfied
      ? `${gates.length} gated workflow(s) approved`
      : `${gates.filter((g) => !g.result.satisfied).length} workflow(s) waiting for approval`,
    summary,
  };
}
