import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { RunnerStartRequest } from '../../core/index.ts';
import { buildTaskSecret, escapeExpansion } from './job-secret.ts';
import {
  buildAttempt,
  buildJob,
  DEFAULT_TASK_EPHEMERAL_STORAGE,
  HELPER_RESOURCES,
  jobName,
  labelValue,
} from './job-spec.ts';

const request: RunnerStartRequest = {
  runId: 'Run_2026-11-23T21:00Z#7',
  taskId: 'build.linux/amd64',
  attempt: 2,
  attemptId: 'Run_2026-11-23T21:00Z#7/build.linux/amd64/2',
  command: { kind: 'argv', argv: ['make', 'all'] },
  env: { GOOS: 'linux' },
  redact: [],
  workDir: '/w',
  artifactsDir: '/a',
  resources: 'small',
  namespace: 'team-a',
  timeoutMs: 90_500,
  outputs: [],
};

describe('jobName', () => {
  it('is a DNS-1123 label of at most 52 chars, stable, and distinct per (run, task, attempt)', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.integer({ min: 1, max: 1000 }), (runId, taskId, attempt) => {
        const name = jobName({ runId, taskId, attempt });
        expect(name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
        expect(name.length).toBeLessThanOrEqual(52);
        expect(jobName({ runId, taskId, attempt })).toBe(name);
        expect(jobName({ runId, taskId, attempt: attempt + 1 })).not.toBe(name);
      }),
    );
  });

  it('does not collide when ids differ only past the readable prefix', () => {
    const long = 'x'.repeat(80);
    expect(jobName({ runId: `${long}a`, taskId: 't', attempt: 1 })).not.toBe(
      jobName({ runId: `${long}b`, taskId: 't', attempt: 1 }),
    );
  });
});

describe('labelValue', () => {
  it('keeps valid values and hashes invalid or long ones into valid label values', () => {
    expect(labelValue('run-1')).toBe('run-1');
    for (const v of ['Run_2026#7', 'a/b', 'y'.repeat(100)]) {
      const out = labelValue(v);
      expect(out).toMatch(/^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/);
      expect(out.length).toBeLessThanOrEqual(63);
    }
    expect(labelValue('a/b')).not.toBe(labelValue('a_b'));
  });
});

describe('buildJob', () => {
  const job = buildJob(
    request,
    'ns-a',
    { requests: { cpu: '1' }, nodeSelector: { pool: 'ci' } },
    {
      namespaces: { 'team-a': 'ns-a' },
      defaultImage: 'img:1',
      resourceClasses: {},
    },
  );
  const pod = job.spec!.template.spec!;
  const container = pod.containers[0]!;

  it('meets the restricted Pod Security profile and mounts no token by default', () => {
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(container.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.volumes?.every((v) => v.emptyDir)).toBe(true);
  });

  it('leaves retries to the engine and rounds the timeout up to whole seconds', () => {
    expect(job.spec!.backoffLimit).toBe(0);
    expect(job.spec!.activeDeadlineSeconds).toBe(91);
    expect(pod.restartPolicy).toBe('Never');
  });

  it('passes argv as data and points MAESTRO_OUTPUT at the termination log', () => {
    expect(container.command).toEqual(['make', 'all']);
    expect(container.args).toBeUndefined();
    expect(container.env).toContainEqual({ name: 'MAESTRO_OUTPUT', value: '/dev/termination-log' });
    expect(container.terminationMessagePath).toBe('/dev/termination-log');
    expect(job.metadata!.namespace).toBe('ns-a');
    expect(pod.nodeSelector).toEqual({ pool: 'ci' });
  });

  it('hands the engine’s TRACEPARENT to the pod unchanged (W3C values hold no `$`)', () => {
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const traced = buildJob(
      { ...request, env: { ...request.env, TRACEPARENT: traceparent } },
      'ns-a',
      {},
      { namespaces: { 'team-a': 'ns-a' }, defaultImage: 'img:1', resourceClasses: {} },
    );
    const task = traced.spec!.template.spec!.containers[0]!;
    expect(task.env).toContainEqual({ name: 'TRACEPARENT', value: traceparent });
  });
});

describe('buildAttempt: secret values stay out of the Job spec', () => {
  const pem = '-----BEGIN K-----\nab"c\\d$(x)\n-----END K-----';
  const secretRequest: RunnerStartRequest = {
    ...request,
    command: { kind: 'argv', argv: ['deploy', `--key=${pem}`, 'echo $$ $(date)'] },
    env: { TOKEN: pem, AUTH: `Bearer ${pem}`, PLAIN: 'cost $5 $(HOME)' },
    redact: [pem],
  };
  const config = { namespaces: { 'team-a': 'ns-a' }, defaultImage: 'img:1', resourceClasses: {} };
  const { job, secretName, secretData } = buildAttempt(secretRequest, 'ns-a', {}, config);
  const container = job.spec!.template.spec!.containers[0]!;

  it('moves every env value and argv element holding a secret into the per-attempt Secret', () => {
    const spec = JSON.stringify(job);
    for (const line of pem.split('\n')) {
      expect(spec).not.toContain(line);
      expect(spec).not.toContain(JSON.stringify(line).slice(1, -1));
    }
    expect(secretName).toBe(`${job.metadata!.name}-secrets`);
    expect(secretData).toEqual({ TOKEN: pem, AUTH: `Bearer ${pem}`, MAESTRO_SECRET_ARG_0: `--key=${pem}` });
    const ref = (key: string) => ({ name: key, valueFrom: { secretKeyRef: { name: secretName, key } } });
    expect(container.env).toEqual(
      expect.arrayContaining([ref('TOKEN'), ref('AUTH'), ref('MAESTRO_SECRET_ARG_0')]),
    );
    expect(container.command).toEqual(['deploy', '$(MAESTRO_SECRET_ARG_0)', 'echo $$$$ $$(date)']);
  });

  it('doubles every $ of plain values, so the kubelet expands only our own references', () => {
    expect(container.env).toContainEqual({ name: 'PLAIN', value: 'cost $$5 $$(HOME)' });
    expect(escapeExpansion('a$b$$c')).toBe('a$$b$$$$c');
  });

  it('creates the Job suspended when it needs a Secret, and not otherwise', () => {
    expect(job.spec!.suspend).toBe(true);
    const plain = buildAttempt(request, 'ns-a', {}, config);
    expect(plain.job.spec!.suspend).toBeUndefined();
    expect(plain.secretData).toEqual({});
  });

  it('builds a Secret owned by its Job, immutable, holding the values', () => {
    const secret = buildTaskSecret(secretName, 'ns-a', {}, { name: 'job', uid: 'u-1' }, secretData);
    expect(secret.metadata!.ownerReferences).toEqual([
      expect.objectContaining({ apiVersion: 'batch/v1', kind: 'Job', name: 'job', uid: 'u-1' }),
    ]);
    expect(secret.immutable).toBe(true);
    expect(secret.stringData).toEqual(secretData);
  });
});

describe('buildJob network (the same rule as every runner: core resolveNetwork)', () => {
  const config = { defaultImage: 'busybox', namespaces: { 'team-a': 'ci' }, resourceClasses: { small: {} } };
  const podLabels = (r: RunnerStartRequest, c: object = config) =>
    buildJob(r, 'ci', {}, c as never).spec?.template.metadata?.labels ?? {};
  it('labels the pods of untrusted, network: none and config-narrowed attempts maestro.dev/network=none', () => {
    expect(podLabels(request)['maestro.dev/network']).toBe('none'); // no trust given: fails closed
    expect(podLabels({ ...request, trust: 'untrusted' })['maestro.dev/network']).toBe('none');
    expect(podLabels({ ...request, trust: 'trusted', network: 'none' })['maestro.dev/network']).toBe('none');
    expect(
      podLabels({ ...request, trust: 'trusted' }, { ...config, network: 'none' })['maestro.dev/network'],
    ).toBe('none');
  });
  it('leaves a trusted attempt unlabelled (it keeps the network)', () => {
    expect(podLabels({ ...request, trust: 'trusted' })).not.toHaveProperty(['maestro.dev/network']);
  });
});

describe('the source init container', () => {
  const sha = 'a'.repeat(40);
  const config = {
    defaultImage: 'busybox',
    namespaces: { 'team-a': 'ci' },
    resourceClasses: { small: {} },
    source: { image: 'git:local', headerSecret: 'repo-reader' },
  };
  const withSource = (source: RunnerStartRequest['source']): RunnerStartRequest => ({
    ...request,
    source: source!,
  });

  it('fetches the run commit into the work dir, with the header only from a Secret', () => {
    const job = buildJob(
      withSource({ kind: 'git', repo: 'https://github.com/acme/app.git', commit: sha }),
      'ci',
      {},
      config,
    );
    const pod = job.spec!.template.spec!;
    const [init] = pod.initContainers!;
    expect(init!.name).toBe('source');
    expect(init!.image).toBe('git:local');
    expect(init!.workingDir).toBe(pod.containers[0]!.workingDir);
    expect(init!.volumeMounts).toContainEqual({ name: 'work', mountPath: pod.containers[0]!.workingDir });
    expect(init!.env).toContainEqual({ name: 'MAESTRO_SOURCE_SHA', value: sha });
    expect(init!.env).toContainEqual({
      name: 'GIT_CONFIG_VALUE_0',
      valueFrom: { secretKeyRef: { name: 'repo-reader', key: 'header' } },
    });
    expect(JSON.stringify(init!.command)).not.toContain('Authorization');
    expect(init!.securityContext).toEqual(pod.containers[0]!.securityContext);
  });

  it("takes the run's own credential (the App's installation token) from the attempt Secret, never the Job", () => {
    const header = 'Authorization: Basic eC1hY2Nlc3MtdG9rZW46Z2hzX2luc3RhbGxhdGlvbg==';
    const built = buildAttempt(
      {
        ...withSource({ kind: 'git', repo: 'https://github.com/acme/app.git', commit: sha }),
        sourceHeader: header,
      },
      'ci',
      {},
      config,
    );
    const init = built.job.spec!.template.spec!.initContainers!.find((c) => c.name === 'source')!;
    expect(init.env).toContainEqual({
      name: 'GIT_CONFIG_VALUE_0',
      valueFrom: { secretKeyRef: { name: built.secretName, key: 'MAESTRO_SOURCE_HEADER' } },
    });
    expect(built.secretData).toEqual({ MAESTRO_SOURCE_HEADER: header });
    expect(JSON.stringify(built.job)).not.toContain('eC1hY2Nlc3M');
    expect(built.job.spec!.suspend).toBe(true); // no pod before its Secret exists
  });

  it('refuses a local source, which no pod can fetch, and a missing source image', () => {
    const local = withSource({ kind: 'git', repo: '/home/me/app', commit: sha });
    expect(() => buildJob(local, 'ci', {}, config)).toThrow(
      expect.objectContaining({ code: 'source_unreachable' }),
    );
    const remote = withSource({ kind: 'git', repo: 'https://github.com/acme/app.git', commit: sha });
    const noImage = { ...config, source: undefined };
    expect(() => buildJob(remote, 'ci', {}, noImage)).toThrow(
      expect.objectContaining({ code: 'runner_config_invalid' }),
    );
    expect(buildJob(request, 'ci', {}, noImage).spec!.template.spec!.initContainers).toBeUndefined();
  });
});

describe('buildAttempt: received artifacts', () => {
  const received = [
    {
      path: 'build/dist/hello',
      digest: `sha256:${'a'.repeat(64)}`,
      executable: true,
      url: 'https://s3.example/b/sha256/aaa?X-Amz-Signature=sig1',
    },
    {
      path: 'build/notes $(id).txt',
      digest: `sha256:${'b'.repeat(64)}`,
      executable: false,
      url: 'https://s3.example/b/sha256/bbb?X-Amz-Signature=sig2',
    },
  ];
  const built = buildAttempt(
    { ...request, received },
    'ns-a',
    {},
    { defaultImage: 'busybox', namespaces: {}, resourceClasses: {} },
  );
  const pod = built.job.spec!.template.spec!;

  it('an init container fetches them by URLs kept in the attempt Secret, never in the Job', () => {
    const init = pod.initContainers!.find((c) => c.name === 'artifacts')!;
    expect(init.image).toBe('busybox');
    expect(init.volumeMounts).toEqual([{ name: 'artifacts', mountPath: '/maestro/artifacts' }]);
    expect(JSON.stringify(built.job)).not.toContain('X-Amz-Signature');
    expect(built.secretData).toEqual({
      MAESTRO_ARTIFACT_URL_0: received[0]!.url,
      MAESTRO_ARTIFACT_URL_1: received[1]!.url,
    });
    expect(built.job.spec!.suspend).toBe(true); // no pod before its Secret exists
    const list = init.env!.find((e) => e.name === 'MAESTRO_ARTIFACT_LIST')!.value;
    // Digest, mode and path per line; `$` doubled for the kubelet.
    expect(list).toBe(`${'a'.repeat(64)} 555 build/dist/hello\n${'b'.repeat(64)} 444 build/notes $$(id).txt`);
    expect(init.securityContext).toMatchObject({
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
    });
  });

  it('the task mounts them read-only, and sees none of the URLs', () => {
    const task = pod.containers[0]!;
    expect(task.volumeMounts).toContainEqual({
      name: 'artifacts',
      mountPath: '/maestro/artifacts',
      readOnly: true,
    });
    expect(task.env!.some((e) => e.name.startsWith('MAESTRO_ARTIFACT_URL_'))).toBe(false);
  });

  it('refuses a path the list could not carry', () => {
    for (const path of ['build/a\nb', ' build/lead', 'build/trail ', 'build/../x'])
      expect(() =>
        buildAttempt(
          { ...request, received: [{ ...received[0]!, path }] },
          'ns-a',
          {},
          { defaultImage: 'b', namespaces: {}, resourceClasses: {} },
        ),
      ).toThrow(/cannot be passed to a pod/);
  });
});

describe('buildAttempt: kept artifacts (the keep sidecar)', () => {
  const keep = {
    paths: ['dist', 'reports/junit.xml'],
    url: 'https://s3.example/b/uploads/abc.tar?X-Amz-Signature=put-sig',
    maxBytes: 1024,
  };
  const config = {
    defaultImage: 'busybox',
    namespaces: {},
    resourceClasses: {},
    artifactUpload: { image: 'curl:8', graceSeconds: 120 },
  };
  const built = buildAttempt({ ...request, keep }, 'ns-a', {}, config);
  const pod = built.job.spec!.template.spec!;
  const sidecar = pod.initContainers!.find((c) => c.name === 'keep')!;

  it('is a native sidecar from the configured image, reading the work volume read-only', () => {
    expect(sidecar.restartPolicy).toBe('Always');
    expect(sidecar.image).toBe('curl:8');
    expect(pod.initContainers!.at(-1)!.name).toBe('keep'); // after the other init containers
    expect(sidecar.volumeMounts).toEqual([
      { name: 'work', mountPath: '/maestro/work', readOnly: true },
      { name: 'keep', mountPath: '/maestro/keep' },
    ]);
    expect(pod.volumes).toContainEqual({ name: 'keep', emptyDir: {} });
    expect(pod.terminationGracePeriodSeconds).toBe(120);
    expect(sidecar.securityContext).toMatchObject({ runAsNonRoot: true, readOnlyRootFilesystem: true });
    const env = Object.fromEntries(sidecar.env!.map((e) => [e.name, e.value]));
    expect(env).toMatchObject({
      MAESTRO_KEEP_PATHS: 'dist\nreports/junit.xml',
      MAESTRO_KEEP_MAX_BYTES: '1024',
    });
  });

  it('takes its upload URL from the attempt Secret, never from the Job spec', () => {
    expect(JSON.stringify(built.job)).not.toContain('X-Amz-Signature');
    expect(built.secretData).toEqual({ MAESTRO_KEEP_URL: keep.url });
    expect(sidecar.env).toContainEqual({
      name: 'MAESTRO_KEEP_URL',
      valueFrom: { secretKeyRef: { name: built.secretName, key: 'MAESTRO_KEEP_URL' } },
    });
    expect(built.job.spec!.suspend).toBe(true);
  });

  it('is refused without an upload image, and for a path that is not workspace-relative', () => {
    const { artifactUpload: _, ...bare } = config;
    expect(() => buildAttempt({ ...request, keep }, 'ns-a', {}, bare)).toThrow(
      expect.objectContaining({ code: 'artifact_upload_not_configured' }),
    );
    for (const path of ['../up', '/etc', 'a\nb'])
      expect(() =>
        buildAttempt({ ...request, keep: { ...keep, paths: [path] } }, 'ns-a', {}, config),
      ).toThrow(expect.objectContaining({ code: 'artifact_path_refused' }));
  });

  it('is absent when the task keeps nothing', () => {
    const plain = buildAttempt(request, 'ns-a', {}, config).job.spec!.template.spec!;
    expect(plain.initContainers?.some((c) => c.name === 'keep')).toBeFalsy();
    expect(plain.terminationGracePeriodSeconds).toBeUndefined();
  });
});

describe('resources of every container (the hardening check: container-resources, ephemeral storage)', () => {
  const config = {
    defaultImage: 'busybox',
    namespaces: { 'team-a': 'ci' },
    resourceClasses: {},
    source: { image: 'git:local' },
    artifactUpload: { image: 'curl:local' },
  };
  const sha = 'a'.repeat(40);
  const full: RunnerStartRequest = {
    ...request,
    source: { kind: 'git', repo: 'https://github.com/acme/app.git', commit: sha },
    received: [{ path: 'a.bin', digest: `sha256:${'b'.repeat(64)}`, executable: false, url: 'https://o/x' }],
    keep: { paths: ['dist'], url: 'https://o/y', maxBytes: 1 },
  };

  it("gives the runner's init and sidecar containers fixed requests and limits, or the config's", () => {
    const helpers = (c: object) => buildJob(full, 'ci', {}, c as never).spec!.template.spec!.initContainers!;
    expect(helpers(config).map((c) => c.name)).toHaveLength(3);
    for (const c of helpers(config)) expect(c.resources).toEqual(HELPER_RESOURCES);
    const own = { requests: { cpu: '100m', memory: '1Gi' }, limits: { cpu: '2', memory: '2Gi' } };
    for (const c of helpers({ ...config, helperResources: own })) expect(c.resources).toEqual(own);
  });

  it("bounds the task container's ephemeral storage when its class names none, and keeps a class's own", () => {
    const task = (rc: object) =>
      buildJob(full, 'ci', rc, config as never).spec!.template.spec!.containers[0]!;
    expect(task({ requests: { cpu: '1' }, limits: { memory: '1Gi' } }).resources).toEqual({
      requests: { cpu: '1', 'ephemeral-storage': DEFAULT_TASK_EPHEMERAL_STORAGE.request },
      limits: { memory: '1Gi', 'ephemeral-storage': DEFAULT_TASK_EPHEMERAL_STORAGE.limit },
    });
    expect(task({ limits: { 'ephemeral-storage': '50Gi' } }).resources).toEqual({
      requests: {},
      limits: { 'ephemeral-storage': '50Gi' },
    });
  });
});
