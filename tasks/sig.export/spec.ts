// The spec of tasks/sig.export: task.json holds the same schemas (checked equal by
// tasks/sig.export/sig-export.test.ts).
export const inputs = {
  type: 'object',
  additionalProperties: false,
  required: ['requestId'],
  properties: {
    requestId: {
      type: 'string',
      pattern: '^[A-Za-z0-9._:-]{1,100}$',
      description: 'The disclosure request this export answers (`${params.requestId}`).',
    },
    endpoint: {
      type: 'string',
      pattern: '^https?://',
      maxLength: 2048,
      description:
        "SIG's base URL, normally `${secrets.SIG_INGEST_URL}` (redacted wherever inputs are stored). Default: the secret SIG_INGEST_URL passed in env:.",
    },
    identity: {
      type: 'string',
      minLength: 1,
      maxLength: 8192,
      description:
        'The bearer credential presented to SIG: the run’s workload identity, `${workload.identity}`. Default: the secret SIG_TOKEN when env: passes it, else none. Never written into the claim. Sent over https://, or plain http:// only to a loopback address (else `credential_in_clear`, before anything is sent).',
    },
    file: {
      type: 'string',
      minLength: 1,
      maxLength: 1024,
      description:
        'The bundle to export (for example a disclosure bundle): a workspace path, or `artifacts:<task>/<path>` for an earlier task’s artifact. The claim’s subject is its sha256. Without it the subject is the request itself.',
    },
    subjectName: {
      type: 'string',
      minLength: 1,
      maxLength: 500,
      description: 'The subject’s name in the claim (default: the file’s name, or `request/<requestId>`).',
    },
    policy: {
      type: 'object',
      additionalProperties: false,
      required: ['purpose', 'authority', 'license'],
      properties: {
        purpose: { type: 'string', minLength: 1, maxLength: 200 },
        authority: { type: 'string', minLength: 1, maxLength: 200 },
        license: { type: 'string', minLength: 1, maxLength: 200 },
      },
      description:
        "Deprecated: the claim carries the run's own policy context (the workflow's `spec.policy`, which the engine passes and checked every task under), so leave this out. Outside the engine (no policy passed) it is the policy the claim carries; given beside the run's, it must say the same, else the task fails (sig_export_policy_mismatch).",
    },
    receipts: {
      type: 'array',
      maxItems: 1000,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['runId', 'taskId', 'digest'],
        properties: {
          runId: { type: 'string', minLength: 1, maxLength: 200 },
          taskId: { type: 'string', minLength: 1, maxLength: 200 },
          digest: { type: 'string', pattern: '^(sha256:)?[0-9a-f]{64}$' },
          location: { type: 'string', maxLength: 2048 },
        },
      },
      description: 'Receipts (by the digest of their signed bundle) to link to the claim.',
    },
    idempotencyKey: {
      type: 'string',
      pattern: '^[A-Za-z0-9._:-]{8,100}$',
      description:
        'Registering again with this key returns the first claim (default `sig-export.<requestId>`).',
    },
    version: { enum: [1, 2, 3], description: 'Pin the contract major instead of negotiating it.' },
  },
} as const;

export const outputs = {
  type: 'object',
  required: ['claimId', 'digest'],
  properties: {
    claimId: { type: 'string', description: 'The disclosure claim SIG holds for this export.' },
    digest: { type: 'string', description: 'sha256 of the exported subject.' },
    created: { type: 'boolean', description: 'This attempt made the claim (false: it existed).' },
    version: { type: 'integer', description: 'The claims contract major spoken.' },
    linked: { type: 'integer', description: 'Receipts linked to the claim.' },
  },
} as const;
