// tasks/notify: a message to a Slack-compatible incoming webhook (or any JSON webhook), built on
// the task SDK. The webhook URL is a secret (a Slack webhook's path is its token): it comes from
// env: (default SLACK_WEBHOOK_URL), never from with:, and no message quotes it. Delivered at
// most once per run: right after the receiver accepts, the task checkpoints `{ delivered }`, so
// a retry of this task (its process killed after the POST, say) sends nothing again; the
// idempotency key also goes out as the Idempotency-Key header, for receivers that deduplicate.
// Its spec is task.json's, checked equal by tasks/notify/notify.test.ts.
import { defineTask, runMain, TaskError, type ValidationIssue } from '../../sdk/index.ts';
import { deliver } from './deliver.ts';

export const notify = defineTask({
  name: 'notify',
  version: '1.0.0',
  description:
    'Posts a message to a Slack-compatible incoming webhook (text, blocks) or a JSON payload to any webhook, whose URL is a secret; retries 429 and 5xx after Retry-After; delivers at most once per run.',
  spec: {
    inputs: {
      type: 'object',
      additionalProperties: false,
      properties: {
        kind: {
          enum: ['slack', 'webhook'],
          description:
            'slack: { text, blocks } as Slack incoming webhooks take it (default); webhook: payload as given.',
        },
        text: { type: 'string', minLength: 1, maxLength: 40000, description: 'slack: the message (mrkdwn).' },
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
        idempotencyKey: {
          type: 'string',
          minLength: 1,
          maxLength: 200,
          description: 'Sent as the Idempotency-Key header (default: none).',
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
          description: 'The receiver accepted it (in this attempt or an earlier one).',
        },
        status: { type: 'integer', description: 'The accepting response’s status.' },
        attempts: { type: 'integer', description: 'Requests sent by this attempt.' },
      },
    },
  },
  validate(inputs) {
    const errors: ValidationIssue[] = [];
    const kind = inputs.kind ?? 'slack';
    if (kind === 'slack' && inputs.text === undefined && inputs.blocks === undefined)
      errors.push({ path: '/text', message: 'slack needs text or blocks' });
    if (kind === 'slack' && inputs.payload !== undefined)
      errors.push({ path: '/payload', message: 'payload is for kind: webhook; slack takes text and blocks' });
    if (kind === 'webhook' && inputs.payload === undefined)
      errors.push({ path: '/payload', message: 'webhook needs payload' });
    if (kind === 'webhook' && (inputs.text !== undefined || inputs.blocks !== undefined))
      errors.push({
        path: inputs.text !== undefined ? '/text' : '/blocks',
        message: 'text and blocks are for kind: slack',
      });
    return { ok: errors.length === 0, errors };
  },
  async execute(inputs, ctx) {
    const earlier = ctx.state as { delivered?: unknown; status?: unknown } | undefined;
    if (earlier?.delivered === true) {
      ctx.emit.log('notify: an earlier attempt of this task delivered the message; not sending it again');
      return { delivered: true };
    }
    const secret = inputs.urlSecret ?? 'SLACK_WEBHOOK_URL';
    const url = webhookUrl(ctx.secret(secret), secret);
    const body =
      (inputs.kind ?? 'slack') === 'slack'
        ? {
            ...(inputs.text ? { text: inputs.text } : {}),
            ...(inputs.blocks ? { blocks: inputs.blocks } : {}),
          }
        : inputs.payload;
    const done = await deliver({
      url,
      body,
      headers: inputs.idempotencyKey ? { 'idempotency-key': inputs.idempotencyKey } : {},
      timeoutMs: inputs.timeoutMs ?? 10_000,
      retries: inputs.retries ?? 3,
      clock: ctx.clock,
      signal: ctx.signal,
      onRetry: (status, waitMs) =>
        ctx.emit.log(`notify: ${url.host} answered ${status}; retrying in ${waitMs} ms`, 'warn'),
    });
    ctx.emit.state({ delivered: true, status: done.status });
    ctx.emit.log(`notify: delivered to ${url.host} (${done.status}, ${done.attempts} request(s))`);
    return { delivered: true, ...done };
  },
});

function webhookUrl(text: string, secret: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new TaskError('notify_url_invalid', `the secret ${secret} is not a URL`, {
      hint: `set ${secret} to the webhook's https:// URL`,
    });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new TaskError(
      'notify_url_invalid',
      `the secret ${secret} is a ${url.protocol.replace(/:$/, '')} URL, not http(s)`,
    );
  return url;
}

if (import.meta.main) await runMain(notify, process.env);
