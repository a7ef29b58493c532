// Hand-written SVG: side-by-side scatter panels sharing both axes, one legend, optional dashed guide
// lines. No dependencies and no randomness; coordinates are rounded so the output is byte-stable.

export interface ChartPoint {
  readonly x: number;
  readonly y: number;
  readonly marker: 'dot' | 'cross';
}

export interface ChartSeries {
  readonly name: string;
  readonly points: readonly ChartPoint[];
}

export interface ChartPanel {
  readonly title: string;
  readonly series: readonly ChartSeries[];
}

export interface PanelChart {
  readonly title: string;
  readonly subtitle: string;
  readonly xLabel: string;
  readonly yLabel: string;
  /** Legend order; a series keeps its colour in every panel. */
  readonly seriesNames: readonly string[];
  readonly markerLabels: { readonly dot: string; readonly cross: string };
  readonly panels: readonly ChartPanel[];
  /** Horizontal reference lines (y value, label), drawn only if inside the y range. */
  readonly guides: ReadonlyArray<{ readonly y: number; readonly label: string }>;
}

// Okabe–Ito: distinguishable with the common colour-vision deficiencies.
const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000'];

const PLOT_W = 280;
const PLOT_H = 220;
const MARGIN = { left: 58, right: 16, top: 70, bottom: 48 };
const PANEL_W = MARGIN.left + PLOT_W + MARGIN.right;
const LEGEND_ROW_H = 18;
const LEGEND_ITEM_W = 160;

export function colorOf(index: number): string {
  return PALETTE[index % PALETTE.length] as string;
}

export function renderPanelChart(chart: PanelChart): string {
  const all = chart.panels.flatMap((p) => p.series.flatMap((s) => s.points));
  const xTicks = niceTicks(Math.max(1, ...all.map((p) => p.x)));
  const yTicks = niceTicks(Math.max(1, ...all.map((p) => p.y)));
  const xMax = xTicks.at(-1) as number;
  const yMax = yTicks.at(-1) as number;
  const legendItems = [...chart.seriesNames, chart.markerLabels.dot, chart.markerLabels.cross];
  const legendPerRow = Math.max(1, Math.floor((PANEL_W * chart.panels.length - MARGIN.left) / LEGEND_ITEM_W));
  const legendRows = Math.ceil(legendItems.length / legendPerRow);
  const width = PANEL_W * chart.panels.length;
  const height = MARGIN.top + PLOT_H + MARGIN.bottom + legendRows * LEGEND_ROW_H + 8;

  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${MARGIN.left}" y="20" font-size="14" font-weight="600">${escapeXml(chart.title)}</text>`,
    `<text x="${MARGIN.left}" y="38" fill="#444444">${escapeXml(chart.subtitle)}</text>`,
  ];

  chart.panels.forEach((panel, i) => {
    const ox = i * PANEL_W + MARGIN.left;
    const oy = MARGIN.top;
    const sx = (x: number): string => fmt(ox + (x / xMax) * PLOT_W);
    const sy = (y: number): string => fmt(oy + PLOT_H - (y / yMax) * PLOT_H);
    out.push(`<g>`);
    out.push(
      `<text x="${fmt(ox + PLOT_W / 2)}" y="${oy - 10}" text-anchor="middle" font-size="12" font-weight="600">${escapeXml(panel.title)}</text>`,
    );
    for (const t of yTicks) {
      out.push(`<line x1="${ox}" x2="${ox + PLOT_W}" y1="${sy(t)}" y2="${sy(t)}" stroke="#e5e5e5"/>`);
      out.push(
        `<text x="${ox - 6}" y="${sy(t)}" dy="0.32em" text-anchor="end" fill="#444444">${tickLabel(t)}</text>`,
      );
    }
    for (const t of xTicks) {
      out.push(
        `<line x1="${sx(t)}" x2="${sx(t)}" y1="${oy + PLOT_H}" y2="${oy + PLOT_H + 4}" stroke="#444444"/>`,
      );
      out.push(
        `<text x="${sx(t)}" y="${oy + PLOT_H + 16}" text-anchor="middle" fill="#444444">${tickLabel(t)}</text>`,
      );
    }
    out.push(`<rect x="${ox}" y="${oy}" width="${PLOT_W}" height="${PLOT_H}" fill="none" stroke="#444444"/>`);
    for (const g of chart.guides) {
      if (g.y > yMax) continue;
      out.push(
        `<line x1="${ox}" x2="${ox + PLOT_W}" y1="${sy(g.y)}" y2="${sy(g.y)}" stroke="#888888" stroke-dasharray="4 3"/>`,
      );
      // A label above a line at the top edge would run into the panel title: put it below the line.
      const dy = g.y === yMax ? '1.1em' : '-0.35em';
      out.push(
        `<text x="${ox + PLOT_W - 4}" y="${sy(g.y)}" dy="${dy}" text-anchor="end" fill="#666666" font-size="10">${escapeXml(g.label)}</text>`,
      );
    }
    panel.series.forEach((s) => {
      const color = colorOf(Math.max(0, chart.seriesNames.indexOf(s.name)));
      const dots = s.points.filter((p) => p.marker === 'dot');
      const crosses = s.points.filter((p) => p.marker === 'cross');
      if (dots.length > 0) {
        out.push(`<g fill="${color}" fill-opacity="0.65">`);
        for (const p of dots) out.push(`<circle cx="${sx(p.x)}" cy="${sy(p.y)}" r="2.2"/>`);
        out.push(`</g>`);
      }
      if (crosses.length > 0) {
        const d = crosses.map((p) =>
          crossPath(ox + (p.x / xMax) * PLOT_W, oy + PLOT_H - (p.y / yMax) * PLOT_H),
        );
        out.push(`<path d="${d.join('')}" stroke="${color}" stroke-width="1.4" fill="none"/>`);
      }
    });
    out.push(
      `<text x="${fmt(ox + PLOT_W / 2)}" y="${oy + PLOT_H + 34}" text-anchor="middle">${escapeXml(chart.xLabel)}</text>`,
    );
    out.push(
      `<text transform="translate(${ox - 42} ${fmt(oy + PLOT_H / 2)}) rotate(-90)" text-anchor="middle">${escapeXml(chart.yLabel)}</text>`,
    );
    out.push(`</g>`);
  });

  const legendTop = MARGIN.top + PLOT_H + MARGIN.bottom;
  legendItems.forEach((label, k) => {
    const x = MARGIN.left + (k % legendPerRow) * LEGEND_ITEM_W;
    const y = legendTop + Math.floor(k / legendPerRow) * LEGEND_ROW_H;
    const seriesIndex = k < chart.seriesNames.length ? k : null;
    if (seriesIndex !== null) {
      out.push(`<rect x="${x}" y="${y - 8}" width="10" height="10" fill="${colorOf(seriesIndex)}"/>`);
    } else if (label === chart.markerLabels.dot) {
      out.push(`<circle cx="${x + 5}" cy="${y - 3}" r="2.5" fill="#444444"/>`);
    } else {
      out.push(`<path d="${crossPath(x + 5, y - 3)}" stroke="#444444" stroke-width="1.4" fill="none"/>`);
    }
    out.push(`<text x="${x + 16}" y="${y}">${escapeXml(label)}</text>`);
  });

  out.push(`</svg>`);
  return out.join('\n') + '\n';
}

/** 0 … a round maximum ≥ max, in 4–8 steps of 1, 2 or 5 × 10^k. */
export function niceTicks(max: number): number[] {
  const raw = max / 5;
  const magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = ([1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? 10 * magnitude) as number;
  const count = Math.ceil(max / step - 1e-9);
  return Array.from({ length: count + 1 }, (_, i) => roundTo(i * step, step));
}

function roundTo(value: number, step: number): number {
  const decimals = Math.max(0, -Math.floor(Math.log10(step)));
  return Number(value.toFixed(decimals));
}

function tickLabel(value: number): string {
  return String(value);
}

function crossPath(cx: number, cy: number): string {
  const r = 2.8;
  return `M${fmt(cx - r)} ${fmt(cy - r)}L${fmt(cx + r)} ${fmt(cy + r)}M${fmt(cx - r)} ${fmt(cy + r)}L${fmt(cx + r)} ${fmt(cy - r)}`;
}

function fmt(n: number): string {
  return String(Math.round(n * 10) / 10);
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
