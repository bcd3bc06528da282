// notify's e-mail: one message over SMTP with nodemailer. The password is a secret (SMTP_PASSWORD
// or passwordSecret, from env:), never an input, and it never crosses the network in clear to
// another machine: without TLS (`tls: none`) a password is refused unless the server is on the
// runner itself (a loopback address). The Message-ID is derived from the idempotency key, so
// receivers and archives that deduplicate by it keep one copy of a re-sent message.
import { createHash } from 'node:crypto';
import { createTransport } from 'nodemailer';
import { isLoopbackHost } from '../../core/index.ts';
import { TaskError } from '../../sdk/index.ts';

export interface Email {
  host: string;
  port?: number;
  tls?: 'starttls' | 'implicit' | 'none';
  user?: string;
  password?: string;
  from: string;
  to: readonly string[];
  cc?: readonly string[];
  subject: string;
  text?: string;
  html?: string;
  idempotencyKey?: string;
  timeoutMs: number;
}

export interface Sent {
  messageId: string;
  accepted: number;
}

const DEFAULT_PORT = { starttls: 587, implicit: 465, none: 25 } as const;

export async function sendEmail(email: Email): Promise<Sent> {
  const tls = email.tls ?? 'starttls';
  if (tls === 'none' && email.password !== undefined && !isLoopbackHost(email.host))
    throw new TaskError(
      'notify_smtp_insecure',
      `tls: none would send the SMTP password to ${email.host} in clear`,
      { hint: 'use tls: starttls (default) or implicit; tls: none is for a server on the runner itself' },
    );
  const transport = createTransport({
    host: email.host,
    port: email.port ?? DEFAULT_PORT[tls],
    secure: tls === 'implicit',
    requireTLS: tls === 'starttls',
    ignoreTLS: tls === 'none',
    connectionTimeout: email.timeoutMs,
    greetingTimeout: email.timeoutMs,
    socketTimeout: email.timeoutMs,
    ...(email.user !== undefined && email.password !== undefined
      ? { auth: { user: email.user, pass: email.password } }
      : {}),
  });
  try {
    const info = await transport.sendMail({
      from: email.from,
      to: [...email.to],
      ...(email.cc ? { cc: [...email.cc] } : {}),
      subject: email.subject,
      ...(email.text !== undefined ? { text: email.text } : {}),
      ...(email.html !== undefined ? { html: email.html } : {}),
      ...(email.idempotencyKey ? { messageId: messageIdOf(email.idempotencyKey, email.from) } : {}),
    });
    return { messageId: info.messageId, accepted: info.accepted.length };
  } catch (error) {
    throw smtpError(error, email.host);
  } finally {
    transport.close();
  }
}

export function messageIdOf(key: string, from: string): string {
  const domain = /@([^>\s]+)>?\s*$/.exec(from)?.[1] ?? 'maestro.invalid';
  return `<${createHash('sha256').update(key).digest('hex').slice(0, 32)}@${domain}>`;
}

function smtpError(error: unknown, host: string): TaskError {
  const e = error as { code?: string; responseCode?: number; response?: string; message?: string };
  const answer = e.response ? ` (${JSON.stringify(e.response.slice(0, 200))})` : '';
  if (e.code === 'EAUTH')
    return new TaskError('notify_rejected', `${host} refused the SMTP login${answer}`, {
      hint: 'check SMTP_USER (user) and the SMTP_PASSWORD secret',
      cause: error,
    });
  if (e.responseCode !== undefined) {
    const temporary = e.responseCode >= 400 && e.responseCode < 500;
    return new TaskError('notify_rejected', `${host} answered ${e.responseCode}${answer}`, {
      fault: temporary ? 'system' : 'user',
      retryable: temporary,
      hint: temporary
        ? 'the server is busy or greylisting: a retry may pass'
        : 'check the addresses and the message',
      cause: error,
    });
  }
  if (/certificate|self.signed|tls|ssl/i.test(e.message ?? ''))
    return new TaskError('notify_tls_failed', `TLS with ${host} failed: ${e.message}`, {
      hint: 'the server’s certificate must be valid for its host name and trusted by the runner',
      cause: error,
    });
  return new TaskError('notify_unreachable', `cannot reach the SMTP server ${host}: ${e.code ?? e.message}`, {
    fault: 'system',
    retryable: true,
    hint: 'check host, port and tls, and that the runner may reach the server',
    cause: error,
  });
}
