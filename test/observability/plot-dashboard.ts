/**
 * A dashboard's panels plotted from a real Prometheus's range query results, rendered to a PNG in
 * headless Chromium (Debian's, driven by playwright-core as the console tests do): the picture
 * the proof asks for, made from the same queries the test checks return data. Drawn as
 * SVG by hand, like the console's duration chart (console/app/duration-chart.tsx): a few lines
 * per panel need no charting library, and Grafana itself cannot run here.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { chromium } from 'playwright-core';

export interface Series {
  label: string;
  /** [unix seconds, value]; NaN and infinities already dropped. */
  points: [number, number][];
}

export interface PlottedPanel {
  title: string;
  series: Series[];
}

interface RangeAnswer {
  status: string;
  error?: string;
  data?: { result: { metric: Record<string, string>; values: [number, string][] }[] };
}

/** `{{label}}` placeholders of a Grafana legend format filled from a series' labels. */
function legendOf(format: string | undefined, metric: Record<string, string>): string {
  if (format) return format.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, k: string) => metric[k] ?? '');
  const labels = Object.entries(metric).filter(([k]) => k !== '__name__');
  return labels.length ? labels.map(([k, v]) => `${k}=${v}`).join(', ') : 'value';
}

/** Every target of every panel, as Prometheus's `query_range` answers it over [start, end]. */
export async function queryPanels(
  promUrl: string,
  dashboard: { panels: { title: string; targets: { expr: string; legendFormat?: string }[] }[] },
  range: { start: number; end: number; step: number },
): Promise<PlottedPanel[]> {
  const panels: PlottedPanel[] = [];
  for (const panel of dashboard.panels) {
    const series: Series[] = [];
    for (const target of panel.targets) {
      const query = new URLSearchParams({
        query: target.expr,
        start: String(range.start),
        end: String(range.end),
        step: String(range.step),
      });
      const body = (await (await fetch(`${promUrl}/api/v1/query_range?${query}`)).json()) as RangeAnswer;
      if (body.status !== 'success') throw new Error(`${panel.title}: ${target.expr}: ${body.error}`);
      for (const r of body.data!.result) {
        const points = r.values
          .map(([t, v]) => [t, Number(v)] as [number, number])
          .filter(([, v]) => Number.isFinite(v));
        if (points.length) series.push({ label: legendOf(target.legendFormat, r.metric), points });
      }
    }
    panels.push({ title: panel.title, series });
  }
  return panels;
}

const COLOURS = ['#0969da', '#cf222e', '#1a7f37', '#8250df', '#bf8700', '#1b7c83', '#57606a'];
const W = 560;
const H = 220;
const PAD = { left: 64, right: 12, top: 28, bottom: 56 };

const escape = (s: string) =>
  s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

const tick = (v: number) => (Math.abs(v) >= 100 || v === 0 ? v.toFixed(0) : v.toPrecision(3));

function panelSvg(panel: PlottedPanel, range: { start: number; end: number }): string {
  const values = panel.series.flatMap((s) => s.points.map(([, v]) => v));
  const lo = Math.min(0, ...values);
  const top = Math.max(lo, ...values);
  // A flat series (every circuit closed) still gets a readable axis.
  const hi = top > lo ? top : lo + 1;
  const x = (t: number) =>
    PAD.left + ((W - PAD.left - PAD.right) * (t - range.start)) / (range.end - range.start);
  const y = (v: number) => H - PAD.bottom - ((H - PAD.top - PAD.bottom) * (v - lo)) / (hi - lo);
  const lines = panel.series.map((s, i) => {
    const colour = COLOURS[i % COLOURS.length]!;
    const path = s.points.map(([t, v]) => `${x(t).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    const legendY = H - PAD.bottom + 22 + 13 * Math.floor(i / 3);
    const legendX = PAD.left + 170 * (i % 3);
    return (
      `<polyline points="${path}" fill="none" stroke="${colour}" stroke-width="2"/>` +
      `<rect x="${legendX}" y="${legendY - 8}" width="10" height="3" fill="${colour}"/>` +
      `<text x="${legendX + 14}" y="${legendY}" font-size="10">${escape(s.label.slice(0, 28))}</text>`
    );
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">
<rect width="${W}" height="${H}" fill="#ffffff" stroke="#d0d7de"/>
<text x="8" y="18" font-size="13" font-weight="600">${escape(panel.title)}</text>
<line x1="${PAD.left}" y1="${H - PAD.bottom}" x2="${W - PAD.right}" y2="${H - PAD.bottom}" stroke="#57606a"/>
<line x1="${PAD.left}" y1="${PAD.top}" x2="${PAD.left}" y2="${H - PAD.bottom}" stroke="#57606a"/>
<text x="${PAD.left - 4}" y="${PAD.top + 4}" font-size="10" text-anchor="end">${tick(hi)}</text>
<text x="${PAD.left - 4}" y="${H - PAD.bottom}" font-size="10" text-anchor="end">${tick(lo)}</text>
<text x="${PAD.left}" y="${H - PAD.bottom + 11}" font-size="10">${new Date(range.start * 1000).toISOString().slice(11, 19)}</text>
<text x="${W - PAD.right}" y="${H - PAD.bottom + 11}" font-size="10" text-anchor="end">${new Date(range.end * 1000).toISOString().slice(11, 19)} UTC</text>
${lines.join('\n')}
</svg>`;
}

/** The panels as one HTML page: a title, then the panels two by two. */
export function dashboardHtml(
  title: string,
  panels: PlottedPanel[],
  range: { start: number; end: number },
): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escape(title)}</title>
<style>body{margin:12px;font-family:sans-serif;background:#f6f8fa;color:#1b1f24}
h1{font-size:16px;margin:0 0 8px}main{display:grid;grid-template-columns:repeat(2,${W}px);gap:8px}
svg text{font-family:sans-serif;fill:#1b1f24}</style></head>
<body><h1>${escape(title)}</h1><main>${panels.map((p) => panelSvg(p, range)).join('\n')}</main></body></html>`;
}

/** Renders `html` to a PNG at `path` in headless Chromium; returns the PNG's size in bytes. */
export async function renderPng(html: string, path: string): Promise<number> {
  mkdirSync(dirname(path), { recursive: true });
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 2 * W + 32, height: 600 } });
    await page.setContent(html);
    const png = await page.screenshot({ path, fullPage: true });
    return png.length;
  } finally {
    await browser.close();
  }
}
