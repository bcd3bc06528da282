// The CA a task's TLS client trusts instead of the system's roots (a private CA, a test one):
// a PEM file of the workspace (`caFile`, an artifact of an earlier task or a file of the source)
// or a secret passed in env: (`caSecret` names the variable). The same two inputs on every task
// that speaks TLS (grpc, kafka). A file that is not PEM certificates is refused without quoting
// it: a secret given by mistake must not reach the log.
import { readFileSync } from 'node:fs';
import { TaskError, workspaceFile, type TaskContext, type ValidationIssue } from '../../sdk/index.ts';

export interface CaInputs {
  caFile?: string;
  caSecret?: string;
}

export const caProperties = {
  caFile: {
    type: 'string',
    minLength: 1,
    description:
      'A PEM file of CA certificates (relative to the workspace) to trust instead of the system roots.',
  },
  caSecret: {
    type: 'string',
    pattern: '^[A-Za-z_][A-Za-z0-9_]*$',
    description:
      'The environment variable (passed in env:) holding PEM CA certificates to trust instead of the system roots.',
  },
} as const;

/** Validation issues of the CA inputs: at most one source, and only where TLS is used. */
export function checkCaInputs(inputs: CaInputs, tls: boolean, why: string): ValidationIssue[] {
  const errors: ValidationIssue[] = [];
  if (inputs.caFile !== undefined && inputs.caSecret !== undefined)
    errors.push({ path: '/caSecret', message: 'give caFile or caSecret, not both' });
  for (const name of ['caFile', 'caSecret'] as const)
    if (inputs[name] !== undefined && !tls) errors.push({ path: `/${name}`, message: `is for TLS: ${why}` });
  return errors;
}

/** The PEM text to trust, or undefined for the system roots. */
export function readCa(inputs: CaInputs, ctx: Pick<TaskContext, 'secret' | 'workspace'>): string | undefined {
  let pem: string;
  let from: string;
  if (inputs.caSecret !== undefined) {
    pem = ctx.secret(inputs.caSecret);
    from = `the secret ${inputs.caSecret}`;
  } else if (inputs.caFile !== undefined) {
    from = `/caFile (${inputs.caFile})`;
    try {
      pem = readFileSync(workspaceFile(ctx.workspace, inputs.caFile, '/caFile'), 'utf8');
    } catch (error) {
      if (error instanceof TaskError) throw error;
      throw new TaskError(
        'tls_ca_unreadable',
        `${from} cannot be read: ${(error as NodeJS.ErrnoException).code}`,
        {
          hint: 'give a file of the workspace (add the task producing it to needs:), or caSecret',
        },
      );
    }
  } else return undefined;
  if (!/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.test(pem))
    throw new TaskError('tls_ca_invalid', `${from} holds no PEM certificate`, {
      hint: 'give the CA certificates as PEM (-----BEGIN CERTIFICATE-----), not a key or DER',
    });
  return pem;
}
