// notify's e-mail against a real SMTP server on 127.0.0.1 (smtp-server, started here): what the
// server receives, its login, TLS refused when the certificate is not trusted, and the password
// in no message, output, checkpoint or error of the task.
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTask } from '../../sdk/index.ts';
import { messageIdOf } from './email.ts';
import { notify } from './index.ts';

const PASSWORD = 'pw-Zq7!smtp-secret';
interface Received {
  from: string;
  to: string[];
  raw: string;
  user: string | undefined;
}
const received: Received[] = [];
let logins = 0;
function smtpServer(options: { plain: boolean }): SMTPServer {
  return new SMTPServer({
    // plain: no STARTTLS offered, login allowed without TLS (the loopback case); else STARTTLS
    // with smtp-server's own self-signed certificate, which a client must not trust.
    ...(options.plain ? { disabledCommands: ['STARTTLS'], allowInsecureAuth: true } : {}),
    authMethods: ['PLAIN', 'LOGIN'],
    onAuth(auth, _session, done) {
      logins++;
      if (auth.username === 'ci' && auth.password === PASSWORD) return done(null, { user: 'ci' });
      return done(new Error('Invalid username or password'));
    },
    onData(stream, session, done) {
      let raw = '';
      stream.on('data', (c: Buffer) => (raw += c.toString('utf8')));
      stream.on('end', () => {
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw,
          user: session.user as string | undefined,
        });
        done();
      });
    },
    logger: false,
  });
}
const plain = smtpServer({ plain: true });
const tls = smtpServer({ plain: false });
let plainPort = 0;
let tlsPort = 0;
beforeAll(async () => {
  await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
  await new Promise<void>((r) => tls.listen(0, '127.0.0.1', r));
  plainPort = (plain.server.address() as AddressInfo).port;
  tlsPort = (tls.server.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise<void>((r) => plain.close(() => r()));
  await new Promise<void>((r) => tls.close(() => r()));
});

const email = (over: Record<string, unknown> = {}) => ({
  host: '127.0.0.1',
  port: plainPort,
  tls: 'none',
  user: 'ci',
  from: 'Maestro CI <ci@example.com>',
  to: ['dev@example.com', 'ops@example.com'],
  subject: 'Deployed 1.2.3',
  ...over,
});

function leaks(result: unknown): boolean {
  const r = result as { error?: unknown };
  return JSON.stringify([result, String(r.error), (r.error as { hint?: string })?.hint]).includes(PASSWORD);
}

describe('tasks/notify e-mail against a real SMTP server', () => {
  it('logs in with the secret password and delivers the message, Message-ID from the idempotency key', async () => {
    received.length = 0;
    const result = await runTask(
      notify,
      { kind: 'email', email: email(), text: 'All green.', idempotencyKey: 'run-9/mail' },
      { secrets: { SMTP_PASSWORD: PASSWORD } },
    );
    expect(result.outcome, String(result.error)).toBe('succeeded');
    expect(result.outputs).toMatchObject({
      delivered: true,
      accepted: 2,
      messageId: messageIdOf('run-9/mail', 'Maestro CI <ci@example.com>'),
    });
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({
      from: 'ci@example.com',
      to: ['dev@example.com', 'ops@example.com'],
      user: 'ci',
    });
    expect(received[0]?.raw).toContain('Subject: Deployed 1.2.3');
    expect(received[0]?.raw).toContain(`Message-ID: ${messageIdOf('run-9/mail', 'x <ci@example.com>')}`);
    expect(received[0]?.raw).toContain('All green.');
    expect(result.states).toEqual([{ delivered: true }]);
    expect(leaks(result)).toBe(false);
  });

  it('a wrong password is refused by the server: not retried, and the password quoted nowhere', async () => {
    received.length = 0;
    const result = await runTask(
      notify,
      { kind: 'email', email: email(), text: 'x' },
      { secrets: { SMTP_PASSWORD: `${PASSWORD}-wrong` } },
    );
    expect(result.error).toMatchObject({ code: 'notify_rejected', retryable: false, fault: 'user' });
    expect(received).toHaveLength(0);
    expect(JSON.stringify([result, String(result.error)])).not.toContain(`${PASSWORD}-wrong`);
  });

  it('STARTTLS to a certificate the runner does not trust fails before any login (the password never sent)', async () => {
    logins = 0;
    const result = await runTask(
      notify,
      { kind: 'email', email: email({ port: tlsPort, tls: 'starttls' }), text: 'x' },
      { secrets: { SMTP_PASSWORD: PASSWORD } },
    );
    expect(result.error).toMatchObject({ code: 'notify_tls_failed', retryable: false });
    expect((result.error as Error).message).toMatch(/certificate/i);
    expect(logins).toBe(0);
  });

  it('tls: none with a password to another machine is refused before connecting', async () => {
    const result = await runTask(
      notify,
      { kind: 'email', email: email({ host: 'smtp.example.com', port: 25 }), text: 'x' },
      { secrets: { SMTP_PASSWORD: PASSWORD } },
    );
    expect(result.error).toMatchObject({ code: 'notify_smtp_insecure' });
    expect(leaks(result)).toBe(false);
  });

  it('the password is never an input (with: is stored with the plan), and a retry after delivery sends nothing', async () => {
    const inline = await runTask(notify, {
      kind: 'email',
      email: { ...email(), password: PASSWORD },
      text: 'x',
    });
    expect(inline.outcome).toBe('invalid');
    expect(inline.errors.map((e) => e.path)).toEqual(['/email/password']);
    received.length = 0;
    const retry = await runTask(
      notify,
      { kind: 'email', email: email(), text: 'again' },
      { secrets: { SMTP_PASSWORD: PASSWORD }, state: { delivered: true } },
    );
    expect(retry.outputs).toEqual({ delivered: true });
    expect(received).toHaveLength(0);
  });

  it('an unreachable server is retryable; each kind takes only its own inputs', async () => {
    const down = await runTask(notify, {
      kind: 'email',
      email: email({ port: 1 }),
      text: 'x',
      timeoutMs: 5000,
    });
    expect(down.error).toMatchObject({ code: 'notify_unreachable', retryable: true });
    expect((await runTask(notify, { kind: 'email', text: 'x' })).errors).toEqual([
      { path: '/email', message: 'email needs email (host, from, to, subject)' },
    ]);
    expect((await runTask(notify, { kind: 'email', email: email(), blocks: [] })).errors).toEqual([
      { path: '/text', message: 'email needs text or email.html' },
      { path: '/blocks', message: 'kind email does not take blocks' },
    ]);
  });
});

describe('tasks/notify pull-request comment (a request to the GitHub App)', () => {
  it('outputs the request and touches no network; it takes text only', async () => {
    const result = await runTask(notify, {
      kind: 'pr-comment',
      text: 'Preview: https://pr-7.example.com',
      idempotencyKey: 'preview',
    });
    expect(result.outcome, String(result.error)).toBe('succeeded');
    expect(result.outputs).toEqual({
      delivered: false,
      prComment: { v: 1, key: 'preview', body: 'Preview: https://pr-7.example.com' },
    });
    expect(
      (await runTask(notify, { kind: 'pr-comment', text: 'x', urlSecret: 'GITHUB_TOKEN' })).errors,
    ).toEqual([{ path: '/urlSecret', message: 'kind pr-comment does not take urlSecret' }]);
  });
});
