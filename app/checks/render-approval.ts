import type { CheckRunWrite } from './check-runs.ts';

export const APPROVAL_CHECK_NAME = 'maestro / approval';

/** One rule of one gated workflow, as the approval check run shows it. */
export interface GateRow {
  workflow: string;
  /** base | head | default | change-control (paths) */
  rule: string;
  digest: string;
  result: {
    required: number;
    satisfied: boolean;
    approvers: { login: string }[];
    notCounted: { login: string; reason: string }[];
  };
  attestationDigest?: string;
}

/**
 * The `maestro / approval` check run of one pull request head. While any rule waits it stays
 * pending (`in_progress`, no conclusion), so branch protection that requires it blocks the merge;
 * it completes `success` once every gated workflow is approved.
 */
export function renderApproval(
  pr: { number: number; headSha: string },
  rows: GateRow[],
  pusherKnown: boolean,
): CheckRunWrite {
  const satisfied = pusherKnown && rows.every((g) => g.result.satisfied);
  const lines = rows.map((g) => {
    const given = g.result.approvers.map((a) => `@${a.login}`).join(', ') || '—';
    const state = g.result.satisfied && pusherKnown ? '✅ approved' : '⏳ waiting';
    return `| ${g.workflow} | ${g.rule} | \`${g.digest}\` | ${g.result.required} | ${g.result.approvers.length} (${given}) | ${state} | ${g.attestationDigest ? `\`${g.attestationDigest}\`` : '—'} |`;
  });
  const notCounted = [
    ...new Set(
      rows.flatMap((g) => g.result.notCounted.map((n) => `- ${g.workflow}: @${n.login}: ${n.reason}`)),
    ),
  ];
  const waiting = new Set(rows.filter((g) => !g.result.satisfied || !pusherKnown).map((g) => g.workflow));
  const summary = [
    pusherKnown
      ? ''
      : `**Waiting for a push event.** No \`push\` or \`synchronize\` event was received for \`${pr.headSha}\`, so who pushed it is unknown and no approval can count yet (the pusher may not approve their own push). Push the branch again.\n`,
    '| workflow | rule | plan digest | required | given | state | attestation |',
    '|---|---|---|---|---|---|---|',
    ...lines,
    '',
    notCounted.length > 0 ? `**Not counted**\n\n${notCounted.join('\n')}` : '',
    '',
    'Rules come from the base branch (`base`); a requirement the head declares is added (`head`); a workflow only the head has that uses secrets or privileged runners needs the default approval (`default`); a pull request that changes approvals, CODEOWNERS or the policy needs its base code owners (`change-control`, reviews on this exact head). An approval binds the plan digest: it counts when its review is on the head commit, or on an earlier commit whose plan digest for that workflow equals the current one.',
  ].join('\n');
  return {
    name: APPROVAL_CHECK_NAME,
    headSha: pr.headSha,
    externalId: `approval:${pr.number}:${pr.headSha}`,
    status: satisfied ? 'completed' : 'in_progress',
    ...(satisfied ? { conclusion: 'success' as const } : {}),
    title: satisfied
      ? `${new Set(rows.map((r) => r.workflow)).size} gated workflow(s) approved`
      : `${waiting.size} workflow(s) waiting for approval`,
    summary,
  };
}
