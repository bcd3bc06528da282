// tasks/notify: a message to a Slack-compatible incoming webhook (or any JSON webhook), an e-mail
// over SMTP, or a comment on the run's pull request (asked of the GitHub App: pr-comment.ts),
// built on the task SDK. Secrets never come from with: (stored with the plan): the webhook URL
// (a Slack webhook's path is its token) is SLACK_WEBHOOK_URL or urlSecret from env:, the SMTP
// password SMTP_PASSWORD or email.passwordSecret; no message quotes either. Delivered at most
// once per run: right after the receiver accepts, the task checkpoints `{ delivered }`, so a
// retry of this task (its process killed after the POST, say) sends nothing again; the
// idempotency key also goes out as the Idempotency-Key header (webhooks) or makes the
// Message-ID (e-mail), for receivers that deduplicate. Its spec is task.json's, checked equal by
// tasks/notify/notify.test.ts.
import { isLoopbackHost } from '../../core/index.ts';
import { defineTask, runMain, secretIfGiven, TaskError, type TaskContext } from '../../sdk/index.ts';
import { inTaskSpan } from '../telemetry/span.ts';
import { checkInputs } from './check-inputs.ts';
import { deliver } from './deliver.ts';
import { sendEmail } from './email.ts';
import { prCommentRequest } from './pr-comment.ts';
import { notifySpec } from './spec.ts';

export const notify = defineTask({
  name: 'notify',
  version: '1.0.0',
  description:
    'Posts a message to a Slack-compatible incoming webhook (text, blocks) or a JSON payload to any webhook, whose URL is a secret, sends an e-mail over SMTP, or asks the GitHub App to comment on the run’s pull request; retries 429 and 5xx after Retry-After; delivers at most once per run.',
  spec: notifySpec,
  validate: checkInputs,
  async execute(inputs, ctx) {
    const kind = inputs.kind ?? 'slack';
    if (kind === 'pr-comment') {
      ctx.emit.log(
        'notify: the comment is asked of the GitHub App, which posts it on the run’s pull request',
      );
      return { delivered: false, prComment: prCommentRequest(inputs.text ?? '', inputs.idempotencyKey) };
    }
    const earlier = ctx.state as { delivered?: unknown } | undefined;
    if (earlier?.delivered === true) {
      ctx.emit.log('notify: an earlier attempt of this task delivered the message; not sending it again');
      return { delivered: true };
    }
    if (kind === 'email') {
      const email = inputs.email as NonNullable<typeof inputs.email>;
      return await inTaskSpan(
        ctx,
        'notify email',
        { task: 'notify', attributes: { 'notify.kind': 'email', 'server.address': email.host } },
        async () => {
          const sent = await sendEmail({
            ...email,
            password: secretIfGiven(ctx, email.passwordSecret ?? 'SMTP_PASSWORD'),
            ...(inputs.text !== undefined ? { text: inputs.text } : {}),
            ...(inputs.idempotencyKey ? { idempotencyKey: inputs.idempotencyKey } : {}),
            timeoutMs: inputs.timeoutMs ?? 10_000,
          });
          ctx.emit.state({ delivered: true });
          ctx.emit.log(`notify: ${email.host} accepted the e-mail for ${sent.accepted} recipient(s)`);
          return { delivered: true, ...sent };
        },
      );
    }
    return await postWebhook(inputs, ctx);
  },
});

interface WebhookInputs {
  kind?: string;
  text?: string;
  blocks?: readonly object[];
  payload?: object;
  urlSecret?: string;
  idempotencyKey?: string;
  timeoutMs?: number;
  retries?: number;
}

async function postWebhook(
  inputs: WebhookInputs,
  ctx: Pick<TaskContext, 'secret' | 'clock' | 'signal' | 'emit'>,
) {
  const secret = inputs.urlSecret ?? 'SLACK_WEBHOOK_URL';
  const url = webhookUrl(ctx.secret(secret), secret);
  const body =
    (inputs.kind ?? 'slack') === 'slack'
      ? {
          ...(inputs.text ? { text: inputs.text } : {}),
          ...(inputs.blocks ? { blocks: inputs.blocks } : {}),
        }
      : inputs.payload;
  return await inTaskSpan(
    ctx,
    `notify ${inputs.kind ?? 'slack'}`,
    // The host only: the URL's path is the secret.
    { task: 'notify', attributes: { 'notify.kind': inputs.kind ?? 'slack', 'server.address': url.hostname } },
    async (span) => {
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
      span.setAttribute('http.response.status_code', done.status);
      ctx.emit.state({ delivered: true, status: done.status });
      ctx.emit.log(`notify: delivered to ${url.host} (${done.status}, ${done.attempts} request(s))`);
      return { delivered: true, ...done };
    },
  );
}

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
  // The URL is the credential (a Slack hook's token is its path): never in clear off this host.
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname))
    throw new TaskError(
      'notify_url_insecure',
      `the secret ${secret} is a plain http:// URL to ${url.hostname}: its token would cross the network in clear`,
      { hint: `set ${secret} to the webhook's https:// URL (plain http only to a loopback address)` },
    );
  return url;
}

if (import.meta.main) await runMain(notify, process.env);
