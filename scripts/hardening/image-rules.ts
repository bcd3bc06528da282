/**
 * The image's own rules, from the CIS Docker Benchmark's image section, checked on the Containerfile
 * (kube-score reads Kubernetes objects, not images): each a finding with a stable id. No tool here
 * reads a Containerfile offline and builds quickly (hadolint is Haskell; Trivy is huge), and these
 * four rules are a line each.
 */
import type { Finding } from './findings.ts';

const RESOURCE = 'Image/maestro';

function instructions(text: string): Array<{ op: string; args: string }> {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const [op = '', ...rest] = l.split(/\s+/);
      return { op: op.toUpperCase(), args: rest.join(' ') };
    });
}

export function checkContainerfile(text: string): Finding[] {
  const all = instructions(text);
  const lastStage = all.slice(all.map((i) => i.op).lastIndexOf('FROM'));
  const findings: Finding[] = [];
  const add = (check: string, severity: Finding['severity'], message: string) =>
    findings.push({ check, resource: RESOURCE, severity, message });
  const user = lastStage
    .filter((i) => i.op === 'USER')
    .at(-1)
    ?.args.split(':')[0];
  if (!user || user === 'root' || user === '0')
    add('image-user-non-root', 'high', 'CIS 4.1: the final stage must end with USER naming a non-root user');
  if (all.some((i) => i.op === 'ADD'))
    add('image-copy-not-add', 'high', 'CIS 4.9: use COPY, not ADD (which fetches URLs and unpacks archives)');
  if (!lastStage.some((i) => i.op === 'HEALTHCHECK'))
    add('image-healthcheck', 'medium', 'CIS 4.6: the image declares no HEALTHCHECK');
  // A base named outright (in FROM, or as an ARG's default image) must carry its digest.
  const bases = all.flatMap((i) =>
    i.op === 'FROM'
      ? [i.args.split(/\s+/)[0]!]
      : i.op === 'ARG' && /IMAGE=/.test(i.args)
        ? [i.args.split('=')[1]!]
        : [],
  );
  const byTag = bases.filter((b) => !b.includes('${') && /[:/]/.test(b) && !/@sha256:[0-9a-f]{64}$/.test(b));
  if (byTag.length > 0)
    add(
      'image-base-digest',
      'medium',
      `CIS 4.2: base ${byTag.join(', ')} is named by tag, not pinned by digest`,
    );
  return findings;
}
