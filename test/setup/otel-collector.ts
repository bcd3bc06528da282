/**
 * Starts a real OpenTelemetry Collector for one test file: otelcol-maestro (the OTLP receiver and
 * the file exporter, built by scripts/setup/otel-collector.sh into ~/.cache/maestro/bin) with OTLP
 * over HTTP on a free port of 127.0.0.1, writing what it receives as OTLP JSON lines, one file per
 * signal, in a temporary directory. `spans()` and `metrics()` read those files back. Its own
 * telemetry is off (no port 8888 shared between test files). Fails loudly when the binary is missing.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../helpers/free-port.ts';

const BINARY = process.env.MAESTRO_OTELCOL ?? join(homedir(), '.cache/maestro/bin/otelcol-maestro');
const SETUP_HINT = 'run `bash scripts/setup/otel-collector.sh` (builds otelcol-maestro)';

export interface KeyValue {
  key: string;
  value: { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number };
}

export interface StoredSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  /** Spans this one links to (OTLP JSON: their trace and span ids in hex). */
  links?: { traceId: string; spanId: string }[];
  kind?: number;
  attributes?: KeyValue[];
  /** The resource of the batch the span arrived in. */
  resource: KeyValue[];
}

export interface StoredMetric {
  name: string;
  resource: KeyValue[];
}

export interface Collector {
  /** http://127.0.0.1:<port>, for OTEL_EXPORTER_OTLP_ENDPOINT. */
  url: string;
  spans(): StoredSpan[];
  metrics(): StoredMetric[];
  log(): string;
  stop(): Promise<void>;
}

export function attr(attributes: KeyValue[] | undefined, key: string): string | undefined {
  const value = attributes?.find((a) => a.key === key)?.value;
  if (!value) return undefined;
  const v = value.stringValue ?? value.intValue ?? value.boolValue ?? value.doubleValue;
  return v === undefined ? undefined : String(v);
}

function lines(file: string): unknown[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as unknown);
}

interface TraceBatch {
  resourceSpans?: {
    resource?: { attributes?: KeyValue[] };
    scopeSpans?: { spans?: Omit<StoredSpan, 'resource'>[] }[];
  }[];
}
interface MetricBatch {
  resourceMetrics?: {
    resource?: { attributes?: KeyValue[] };
    scopeMetrics?: { metrics?: { name: string }[] }[];
  }[];
}

export async function startCollector(): Promise<Collector> {
  if (!existsSync(BINARY)) throw new Error(`the OpenTelemetry Collector is not at ${BINARY}: ${SETUP_HINT}`);
  const dir = mkdtempSync(join(tmpdir(), 'maestro-otelcol-'));
  const port = await freePort();
  const traces = join(dir, 'traces.jsonl');
  const metrics = join(dir, 'metrics.jsonl');
  const config = join(dir, 'config.yaml');
  // flush_interval: the exporter writes within 100 ms of receiving, so a poll sees it soon.
  writeFileSync(
    config,
    `receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:${port}
exporters:
  file/traces:
    path: ${traces}
    flush_interval: 100ms
  file/metrics:
    path: ${metrics}
    flush_interval: 100ms
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [file/traces]
    metrics:
      receivers: [otlp]
      exporters: [file/metrics]
`,
  );
  const child = spawn(BINARY, ['--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (output.includes('Everything is ready')) {
        child.stderr!.off('data', onData);
        child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
        resolve();
      }
    };
    child.stderr!.on('data', onData);
    child.once('exit', (code) =>
      reject(new Error(`the collector exited (${code}) before it was ready:\n${output}`)),
    );
  });
  return {
    url: `http://127.0.0.1:${port}`,
    spans: () =>
      (lines(traces) as TraceBatch[]).flatMap((b) =>
        (b.resourceSpans ?? []).flatMap((rs) =>
          (rs.scopeSpans ?? []).flatMap((ss) =>
            (ss.spans ?? []).map((s) => ({ ...s, resource: rs.resource?.attributes ?? [] })),
          ),
        ),
      ),
    metrics: () =>
      (lines(metrics) as MetricBatch[]).flatMap((b) =>
        (b.resourceMetrics ?? []).flatMap((rm) =>
          (rm.scopeMetrics ?? []).flatMap((sm) =>
            (sm.metrics ?? []).map((m) => ({ name: m.name, resource: rm.resource?.attributes ?? [] })),
          ),
        ),
      ),
    log: () => output,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
