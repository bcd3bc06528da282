// The notify task's spec (task.json holds the same, checked equal by notify.test.ts).
const address = { type: 'string', minLength: 3, maxLength: 320, pattern: '^[^\\s<>@]+@[^\\s<>@]+$' } as const;

export const notifySpec = {
  inputs: {
    type: 'object',
    additionalProperties: false,
    properties: {
      kind: {
        enum: ['slack', 'webhook', 'email', 'pr-comment'],
        description:
          'slack: { text, blocks } as Slack incoming webhooks take it (default); webhook: payload as given; email: text (or email.html) over SMTP; pr-comment: text as a comment on the run’s pull request, posted by the GitHub App.',
      },
      text: {
        type: 'string',
        minLength: 1,
        maxLength: 40000,
        description:
          'slack: the message (mrkdwn); email: the plain-text body; pr-comment: the comment (Markdown).',
      },
      blocks: {
        type: 'array',
        items: { type: 'object' },
        maxItems: 50,
        description: 'slack: Block Kit blocks.',
      },
      payload: { type: 'object', description: 'webhook: the JSON body to post.' },
      urlSecret: {
        type: 'string',
        pattern: '^[A-Za-z_][A-Za-z0-9_]*$',
        description:
          'The environment variable (a secret passed in env:) holding the webhook URL. Default SLACK_WEBHOOK_URL.',
      },
      email: {
        type: 'object',
        additionalProperties: false,
        required: ['host', 'from', 'to', 'subject'],
        description: 'email: the SMTP server and the message.',
        properties: {
          host: { type: 'string', minLength: 1, maxLength: 253, description: 'The SMTP server’s host name.' },
          port: {
            type: 'integer',
            minimum: 1,
            maximum: 65535,
            description: 'Default 587 (starttls), 465 (implicit), 25 (none).',
          },
          tls: {
            enum: ['starttls', 'implicit', 'none'],
            description:
              'starttls (default; refused without it), implicit (TLS from the start, port 465), none (only for a server on the runner itself when a password is given).',
          },
          user: {
            type: 'string',
            minLength: 1,
            maxLength: 320,
            description: 'The SMTP login (its password is the secret passwordSecret names).',
          },
          passwordSecret: {
            type: 'string',
            pattern: '^[A-Za-z_][A-Za-z0-9_]*$',
            description:
              'The environment variable (a secret passed in env:) holding the SMTP password. Default SMTP_PASSWORD.',
          },
          from: {
            type: 'string',
            minLength: 3,
            maxLength: 400,
            description: 'The sender (ci@example.com or "CI <ci@example.com>").',
          },
          to: { type: 'array', minItems: 1, maxItems: 100, items: address, description: 'Recipients.' },
          cc: { type: 'array', maxItems: 100, items: address, description: 'Copied recipients.' },
          subject: { type: 'string', minLength: 1, maxLength: 998, description: 'The subject line.' },
          html: {
            type: 'string',
            minLength: 1,
            maxLength: 1000000,
            description: 'An HTML body (beside text, or instead of it).',
          },
        },
      },
      idempotencyKey: {
        type: 'string',
        minLength: 1,
        maxLength: 200,
        description:
          'webhook, slack: sent as the Idempotency-Key header; email: the Message-ID is derived from it; pr-comment: the comment with this key is updated, not posted again (default: the task’s id).',
      },
      timeoutMs: {
        type: 'integer',
        minimum: 1,
        maximum: 120000,
        description: 'Per request (default 10000).',
      },
      retries: {
        type: 'integer',
        minimum: 0,
        maximum: 10,
        description: 'Retries on 429 and 5xx (default 3).',
      },
    },
  },
  outputs: {
    type: 'object',
    required: ['delivered'],
    properties: {
      delivered: {
        type: 'boolean',
        description:
          'The receiver accepted it (in this attempt or an earlier one); pr-comment: false, the App posts it after the task.',
      },
      status: { type: 'integer', description: 'The accepting response’s status.' },
      attempts: { type: 'integer', description: 'Requests sent by this attempt.' },
      messageId: { type: 'string', description: 'email: the Message-ID sent.' },
      accepted: { type: 'integer', description: 'email: recipients the server accepted.' },
      prComment: {
        type: 'object',
        description:
          'pr-comment: the request to the GitHub App ({ v, key, body }); the App posts it on the run’s pull request.',
      },
    },
  },
} as const;
