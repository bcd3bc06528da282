/**
 * A minimal real OTLP/HTTP receiver for the tests: it accepts what an OpenTelemetry SDK sends to
 * `/v1/metrics` and `/v1/traces` with OTEL_EXPORTER_OTLP_PROTOCOL=http/json (the OTLP
 * specification's JSON encoding of ExportMetricsServiceRequest / ExportTraceServiceRequest),
 * answers 200 with an empty partial-success body as a collector does, and keeps every decoded
 * request. Why not the Collector: its build from the Go module proxy costs a fresh two-core
 * machine many minutes; this receives the same bytes over the same protocol.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface OtlpAttribute {
  key: string;
  value: { stringValue?: string; intValue?: string | number; doubleValue?: number; boolValue?: boolean };
}
export interface OtlpResource {
  attributes: OtlpAttribute[];
}
export interface OtlpDataPoint {
  attributes?: OtlpAttribute[];
  asDouble?: number;
  asInt?: string | number;
  count?: string | number;
  sum?: number;
  bucketCounts?: (string | number)[];
  explicitBounds?: number[];
}
export interface OtlpMetric {
  name: string;
  unit?: string;
  description?: string;
  sum?: { dataPoints: OtlpDataPoint[]; isMonotonic?: boolean; aggregationTemporality?: number };
  histogram?: { dataPoints: OtlpDataPoint[]; aggregationTemporality?: number };
  gauge?: { dataPoints: OtlpDataPoint[] };
}
export interface OtlpMetricsRequest {
  resourceMetrics: {
    resource: OtlpResource;
    scopeMetrics: { scope: { name: string }; metrics: OtlpMetric[] }[];
  }[];
}
export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes?: OtlpAttribute[];
}
export interface OtlpTracesRequest {
  resourceSpans: { resource: OtlpResource; scopeSpans: { spans: OtlpSpan[] }[] }[];
}

export interface OtlpReceiver {
  /** The base URL, for OTEL_EXPORTER_OTLP_ENDPOINT. */
  url: string;
  metrics: OtlpMetricsRequest[];
  traces: OtlpTracesRequest[];
  /** Requests that were not OTLP JSON (wrong path or media type): a test expects none. */
  rejected: string[];
  close(): Promise<void>;
}

export function attribute(attributes: OtlpAttribute[] | undefined, key: string): string | undefined {
  const v = attributes?.find((a) => a.key === key)?.value;
  return v === undefined ? undefined : String(v.stringValue ?? v.intValue ?? v.doubleValue ?? v.boolValue);
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const metrics: OtlpMetricsRequest[] = [];
  const traces: OtlpTracesRequest[] = [];
  const rejected: string[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      const type = (request.headers['content-type'] ?? '').split(';')[0];
      const known =
        request.method === 'POST' && (request.url === '/v1/metrics' || request.url === '/v1/traces');
      if (!known || type !== 'application/json') {
        rejected.push(`${request.method} ${request.url} ${type}`);
        response.writeHead(415).end();
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
      if (request.url === '/v1/metrics') metrics.push(body as OtlpMetricsRequest);
      else traces.push(body as OtlpTracesRequest);
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    metrics,
    traces,
    rejected,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
