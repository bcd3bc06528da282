/**
 * The dashboards and alert rules against a real Prometheus (Debian's `prometheus`/`promtool`):
 * `promtool check rules` and `promtool test rules` pass on every rule file (each alert fires and
 * clears in ops/prometheus/tests/); then a real Prometheus scrapes a real server (worker role,
 * the App's webhook ingress, a metrics:read token) while runs succeed and fail and webhooks are
 * answered, loads every rule file, and every PromQL expression of every dashboard panel and
 * every recording rule an alert compares (the series each alert watches, without its threshold)
 * returns data. Then the overview dashboard's panels are plotted from Prometheus's range query
 * results (every panel must plot a non-empty series) and rendered to a PNG in headless Chromium,
 * test/artifacts/observability/dashboard-maestro-overview.png (docs/images/ holds one such image).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load } from 'js-yaml';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createWebhookIngress,
  openDeliveryStore,
  signWebhookBody,
  type DeliveryStore,
} from '../../app/index.ts';
import { HELLO, manifest, startApi, type ApiHarness } from '../api/api-harness.ts';
import { dashboardHtml, queryPanels, renderPng } from './plot-dashboard.ts';

const ALERTS = 'ops/prometheus/alerts';
const TESTS = 'ops/prometheus/tests';
const DASHBOARDS = 'ops/grafana/dashboards';
const ruleFiles = readdirSync(ALERTS).filter((f) => f.endsWith('.yaml'));
const dashboards = readdirSync(DASHBOARDS).filter((f) => f.endsWith('.json'));

interface RuleGroup {
  name: string;
  rules: { record?: string; alert?: string; expr: string; annotations?: Record<string, string> }[];
}
const groups = ruleFiles.flatMap(
  (f) => (load(readFileSync(join(ALERTS, f), 'utf8')) as { groups: RuleGroup[] }).groups,
);
interface Dashboard {
  title: string;
  panels: { title: string; targets: { expr: string; legendFormat?: string }[] }[];
}
const readDashboard = (f: string) => JSON.parse(readFileSync(join(DASHBOARDS, f), 'utf8')) as Dashboard;
const panelQueries = dashboards.flatMap((f) =>
  readDashboard(f).panels.flatMap((p) => p.targets.map((t) => ({ where: `${f}: ${p.title}`, expr: t.expr }))),
);
/** The dashboard the test plots, and where the image goes (a test artifact, ignored by git). */
const PLOTTED = 'maestro-overview.json';
const PICTURE = 'test/artifacts/observability/dashboard-maestro-overview.png';

describe('rule files (promtool)', () => {
  it('every rule file passes `promtool check rules`, and every alert has a runbook in docs/runbooks/', () => {
    const checked = spawnSync('promtool', ['check', 'rules', ...ruleFiles.map((f) => join(ALERTS, f))], {
      encoding: 'utf8',
    });
    expect(checked.status, checked.stdout + checked.stderr).toBe(0);
    const alerts = groups.flatMap((g) => g.rules.filter((r) => r.alert));
    expect(alerts.length).toBeGreaterThanOrEqual(6);
    for (const alert of alerts) {
      const url = alert.annotations?.runbook_url ?? '';
      expect(url, alert.alert).toMatch(/^docs\/runbooks\/[a-z0-9-]+\.md$/);
      expect(readFileSync(url, 'utf8')).toContain(alert.alert!);
    }
  });

  it('`promtool test rules` fires and clears every alert', () => {
    const tests = readdirSync(TESTS).filter((f) => f.endsWith('.yaml'));
    const tested = tests.map((f) => readFileSync(join(TESTS, f), 'utf8')).join('\n');
    for (const alert of groups.flatMap((g) => g.rules.filter((r) => r.alert)))
      expect(tested, `${alert.alert} has no unit test`).toContain(`alertname: ${alert.alert}\n`);
    const ran = spawnSync('promtool', ['test', 'rules', ...tests], { cwd: TESTS, encoding: 'utf8' });
    expect(ran.status, ran.stdout + ran.stderr).toBe(0);
  }, 300_000);
});

const SECRET = 'prometheus-secret';
const dir = mkdtempSync(join(tmpdir(), 'maestro-prometheus-'));
let api: ApiHarness;
let deliveries: DeliveryStore;
let prometheus: ChildProcess;
let promUrl: string;
let promLog = '';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function query(expr: string): Promise<unknown[]> {
  const answer = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const body = (await answer.json()) as { status: string; error?: string; data?: { result: unknown[] } };
  if (body.status !== 'success') throw new Error(`${expr}: ${body.error}`);
  return body.data!.result;
}

beforeAll(async () => {
  deliveries = await openDeliveryStore({ dataDir: dir });
  const ingress = createWebhookIngress({
    secret: SECRET,
    deliveries,
    spoolDir: join(dir, 'spool'),
    accept: () => undefined,
    clock: Date.now,
    logger: pino({ level: 'silent' }),
  });
  // A price table whose spot flavor is half the on-demand price, so a deferrable task that must
  // start now is placed on spot and saves (the price-aware dashboard's savings panels). The local
  // runner has no capacity to choose: the flavor is a price here, which is what is measured.
  const prices = join(dir, 'prices.json');
  writeFileSync(prices, JSON.stringify({ placement: { flavors: { local: { spot: 0.5 } } } }));
  api = await startApi({
    webhook: { path: '/api/github/webhooks', ingress },
    env: { MAESTRO_PRICE_TABLE: prices },
  });
  const token = await api.mint(['metrics:read']);
  const target = new URL(api.url).host;
  const port = await freePort();
  promUrl = `http://127.0.0.1:${port}`;
  const config = join(dir, 'prometheus.yml');
  writeFileSync(
    config,
    JSON.stringify({
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      rule_files: ruleFiles.map((f) => join(process.cwd(), ALERTS, f)),
      scrape_configs: [
        {
          job_name: 'maestro',
          authorization: { credentials: token },
          static_configs: [{ targets: [target] }],
        },
      ],
    }),
  );
  prometheus = spawn(
    'prometheus',
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, 'tsdb')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  prometheus.stderr!.on('data', (c: Buffer) => (promLog += c.toString()));
}, 60_000);

afterAll(async () => {
  prometheus?.kill('SIGTERM');
  if (prometheus) await new Promise((r) => prometheus.once('exit', r));
  await api?.close();
  await deliveries?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function runToEnd(yaml: string): Promise<void> {
  const { body: wf } = await api.call('POST', '/v1/workflows', {
    raw: yaml,
    contentType: 'application/yaml',
  });
  const { body: run } = await api.call('POST', '/v1/runs', { body: { workflow: wf.digest } });
  await api.settle(run.id);
}

async function deliver(id: string, signed: boolean): Promise<void> {
  const body = JSON.stringify({ zen: id });
  const response = await fetch(`${api.url}/api/github/webhooks`, {
    method: 'POST',
    body,
    headers: {
      'content-type': 'application/json',
      'x-github-event': 'ping',
      'x-github-delivery': id,
      'x-hub-signature-256': signed ? signWebhookBody(SECRET, body) : `sha256=${'0'.repeat(64)}`,
    },
  });
  await response.text();
}

const POLL = { timeout: 60_000, interval: 500 };

describe('a real Prometheus scraping a real server', () => {
  it('returns data for every dashboard panel query and every series an alert watches', async () => {
    await expect.poll(() => query('up{job="maestro"} == 1').catch(() => []), POLL).toHaveLength(1);
    const start = Math.floor(Date.now() / 1000);
    // Twice, so that every rate() over the scrapes sees a counter move.
    for (let round = 0; round < 2; round += 1) {
      await runToEnd(HELLO);
      await runToEnd(manifest('broken-build', '    - id: compile\n      run: "exit 3"\n'));
      // Refused by the budget guard (the price-aware dashboard and alert watch these).
      await runToEnd(
        manifest(
          'over-budget',
          '    - id: big\n      run: "true"\n      timeout: 1h\n',
          '  budget: { limit: 0.001, currency: USD }\n',
        ),
      );
      // Placed on spot (deadline = its timeout: it starts now): savings per namespace.
      await runToEnd(
        manifest(
          'placed',
          '    - id: reindex\n      run: "true"\n      timeout: 1m\n      placement: { deferrable: true, deadline: 1m }\n',
        ),
      );
      // Fails, then is fixed: one recovery a round (the MTTR panel).
      await runToEnd(manifest('flaky', '    - id: step\n      run: "exit 1"\n'));
      await runToEnd(manifest('flaky', '    - id: step\n      run: "true"\n'));
      await deliver(`ok-${round}`, true);
      await deliver(`bad-${round}`, false);
      await new Promise((r) => setTimeout(r, 2_500));
    }
    await expect
      .poll(() => query('cicd_pipeline_run_duration_seconds_count{cicd_pipeline_result="failure"}'), POLL)
      .not.toHaveLength(0);
    const empty: string[] = [];
    const watched = groups.flatMap((g) =>
      g.rules.filter((r) => r.record).map((r) => ({ where: `${g.name}: ${r.record}`, expr: r.expr })),
    );
    for (const { where, expr } of [...panelQueries, ...watched])
      if ((await query(expr)).length === 0) empty.push(`${where}: ${expr}`);
    expect(empty, promLog.slice(-2000)).toEqual([]);
    // The recording rules were evaluated by Prometheus itself (the dashboard's SLO panels read them).
    await expect.poll(() => query('maestro:http_request_errors:ratio_rate5m'), POLL).not.toHaveLength(0);
    const rules = (await (await fetch(`${promUrl}/api/v1/rules`)).json()) as {
      data: { groups: { rules: { name: string; health: string }[] }[] };
    };
    const unhealthy = rules.data.groups.flatMap((g) => g.rules).filter((r) => r.health !== 'ok');
    expect(unhealthy).toEqual([]);
    expect(panelQueries.length).toBeGreaterThanOrEqual(10);

    // The picture: the overview's panels plotted from range queries over the test's runs.
    const range = { start, end: Math.ceil(Date.now() / 1000), step: 1 };
    const dashboard = readDashboard(PLOTTED);
    const plotted = await queryPanels(promUrl, dashboard, range);
    expect(plotted).toHaveLength(dashboard.panels.length);
    const unplotted = plotted.filter((p) => !p.series.some((s) => s.points.length > 0)).map((p) => p.title);
    expect(unplotted).toEqual([]);
    expect(plotted.map((p) => p.title)).toEqual(
      expect.arrayContaining([
        'MTTR: mean time to recovery by workflow (last day)',
        'Cost per namespace (last hour)',
      ]),
    );
    const bytes = await renderPng(dashboardHtml(dashboard.title, plotted, range), PICTURE);
    expect(bytes).toBeGreaterThan(10_000);
  }, 240_000);
});
