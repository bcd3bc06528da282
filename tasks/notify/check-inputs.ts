// notify's rules across inputs that its schema cannot say: which inputs each kind takes.
import type { ValidationIssue, ValidationResult } from '../../sdk/index.ts';

type Kind = 'slack' | 'webhook' | 'email' | 'pr-comment';
interface Inputs {
  kind?: Kind;
  text?: string;
  blocks?: unknown;
  payload?: unknown;
  urlSecret?: string;
  email?: { html?: string };
  retries?: number;
}

/** The inputs each kind may take (besides kind, idempotencyKey and timeoutMs). */
const TAKES: Record<Kind, ReadonlyArray<keyof Inputs>> = {
  slack: ['text', 'blocks', 'urlSecret', 'retries'],
  webhook: ['payload', 'urlSecret', 'retries'],
  email: ['text', 'email'],
  'pr-comment': ['text'],
};

export function checkInputs(inputs: Inputs): ValidationResult {
  const errors: ValidationIssue[] = [];
  const kind = inputs.kind ?? 'slack';
  if (kind === 'slack' && inputs.text === undefined && inputs.blocks === undefined)
    errors.push({ path: '/text', message: 'slack needs text or blocks' });
  if (kind === 'webhook' && inputs.payload === undefined)
    errors.push({ path: '/payload', message: 'webhook needs payload' });
  if (kind === 'email' && inputs.email === undefined)
    errors.push({ path: '/email', message: 'email needs email (host, from, to, subject)' });
  if (kind === 'email' && inputs.email && inputs.text === undefined && inputs.email.html === undefined)
    errors.push({ path: '/text', message: 'email needs text or email.html' });
  if (kind === 'pr-comment' && inputs.text === undefined)
    errors.push({ path: '/text', message: 'pr-comment needs text' });
  for (const name of ['text', 'blocks', 'payload', 'urlSecret', 'email', 'retries'] as const)
    if (inputs[name] !== undefined && !TAKES[kind].includes(name))
      errors.push({ path: `/${name}`, message: `kind ${kind} does not take ${name}` });
  return { ok: errors.length === 0, errors };
}
