// One chart per scenario: each request's queue wait against its arrival time, one panel per policy, so
// the policies can be compared at a glance. Large runs are thinned to the longest wait per time bin.

import { DEFAULT_AGING_HORIZON_MS } from '../src/core/defaults.ts';
import { seriesOf, type Scenario } from './scenario.ts';
import type { SimResult } from './simulate.ts';
import { queueWaitMs } from './summarize.ts';
import { renderPanelChart, type ChartPoint, type ChartSeries } from './svg-chart.ts';

/** Above this many requests a panel shows the longest wait per bin instead of every request. */
const MAX_RAW_POINTS = 1500;
const BINS = 240;

export function renderWaitChart(scenario: Scenario, results: readonly SimResult[]): string {
  // Legend from most to least critical, then in scenario order.
  const seriesNames = [
    ...new Set([...scenario.workloads].sort((a, b) => b.criticality - a.criticality).map(seriesOf)),
  ];
  const requests = results[0]?.records.length ?? 0;
  const lastArrivalMs = Math.max(0, ...(results[0]?.records.map((r) => r.request.arriveAtMs) ?? []));
  const binMs = requests > MAX_RAW_POINTS ? Math.max(1, lastArrivalMs / BINS) : null;

  const panels = results.map((result) => {
    const bySeries = new Map<string, ChartPoint[]>(seriesNames.map((name) => [name, []]));
    for (const r of result.records) {
      const wait = queueWaitMs(r);
      if (wait === null) continue;
      bySeries.get(r.request.series)?.push({
        x: r.request.arriveAtMs / 1000,
        y: wait / 1000,
        marker: r.outcome === 'evicted' ? 'cross' : 'dot',
      });
    }
    const series: ChartSeries[] = [...bySeries].map(([name, points]) => ({
      name,
      points: binMs === null ? points : longestPerBin(points, binMs / 1000),
    }));
    return { title: result.policy, series };
  });

  const ttlSec = scenario.queueTtlMs / 1000;
  return renderPanelChart({
    title: `${scenario.name}: queue wait by arrival time`,
    subtitle:
      binMs === null
        ? 'One mark per request. Same requests in every panel; only the policy differs.'
        : `Longest wait among requests arriving in each ${(binMs / 1000).toFixed(1)} s bin. Same requests in every panel.`,
    xLabel: 'arrival time (s)',
    yLabel: 'queue wait (s)',
    seriesNames,
    markerLabels: { dot: 'dispatched', cross: 'evicted by queue TTL' },
    panels,
    guides: [
      {
        y: DEFAULT_AGING_HORIZON_MS / 1000,
        label: `aging horizon ${DEFAULT_AGING_HORIZON_MS / 1000} s (workload-aware)`,
      },
      { y: ttlSec, label: `queue TTL ${ttlSec} s` },
    ],
  });
}

function longestPerBin(points: readonly ChartPoint[], binSec: number): ChartPoint[] {
  const best = new Map<number, ChartPoint>();
  for (const p of points) {
    const bin = Math.floor(p.x / binSec);
    const held = best.get(bin);
    if (!held || p.y > held.y) best.set(bin, p);
  }
  return [...best.values()];
}
