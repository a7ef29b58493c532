// The Prometheus text rendering, read back with a real parser (parse-prometheus-text-format): names,
// types, histogram buckets, label escaping, and the reserved `other` workload label.

import { describe, expect, it } from 'vitest';
import {
  ENDED,
  LocalScheduler,
  createPolicy,
  renderPrometheus,
  workloadLabel,
} from '../../src/core/index.ts';
import { parseExposition } from '../conformance/prometheus-parse.ts';

function scrape(s: LocalScheduler, now: number, topN: number): string {
  return renderPrometheus({
    pools: [{ pool: 'default', summary: s.coordinator.metricsSnapshot(now, topN) }],
    configErrors: 0,
    topWorkloads: topN,
  });
}

describe('renderPrometheus', () => {
  const s = new LocalScheduler({
    policy: createPolicy('fcfs'),
    backends: [{ name: 'b1', maxConcurrency: 1 }],
  });
  s.admit('plain', 'p1', 2, 0);
  s.admit('we"ird\\id\n', 'w1', 2, 0);
  s.admit('other', 'o1', 4, 1);
  s.dispatch(0);
  s.complete('plain', 'p1', ENDED.completed, 2000, { promptTokens: 11, completionTokens: 22 });
  s.cancel('other', 'o1', 2100);
  const text = scrape(s, 3000, 10);
  const m = parseExposition(text);

  it('is well-formed for the parser, with the families typed as Prometheus expects', () => {
    expect(m.families.get('sluice_requests_total')?.type).toBe('COUNTER');
    expect(m.families.get('sluice_queue_wait_seconds')?.type).toBe('HISTOGRAM');
    expect(m.families.get('sluice_workload_queued_requests')?.type).toBe('GAUGE');
    expect(m.families.get('sluice_backend_slots')?.type).toBe('GAUGE');
    // A coordinator that never restarted is serving: nothing to wait for.
    expect(m.families.get('sluice_pool_recovering_workloads')?.type).toBe('GAUGE');
    expect(text).toContain('sluice_pool_recovering_workloads{pool="default"} 0\n');
    for (const name of m.families.keys()) {
      if (m.families.get(name)?.type === 'COUNTER') expect(name).toMatch(/_total$/);
    }
  });

  it('escapes workload IDs and keeps a real workload called other apart from the aggregate', () => {
    expect(m.value('sluice_workload_queued_requests', { pool: 'default', workload: 'we"ird\\id\n' })).toBe(0);
    expect(m.value('sluice_workload_in_flight_requests', { pool: 'default', workload: 'we"ird\\id\n' })).toBe(
      1,
    );
    expect(workloadLabel('other')).toBe('=other');
    expect(
      m.value('sluice_requests_total', {
        pool: 'default',
        workload: '=other',
        outcome: 'cancelled',
        reason: 'client_closed',
      }),
    ).toBe(1);
    expect(m.value('sluice_workload_queued_requests', { pool: 'default', workload: 'other' })).toBe(0);
  });

  it('reports tokens, backends and a cumulative wait histogram in seconds', () => {
    expect(m.value('sluice_tokens_total', { pool: 'default', workload: 'plain', type: 'completion' })).toBe(
      22,
    );
    expect(m.value('sluice_backend_in_flight_requests', { pool: 'default', backend: 'b1' })).toBe(1);
    expect(m.value('sluice_backend_state', { pool: 'default', backend: 'b1', state: 'healthy' })).toBe(1);
    const wait = m.histograms('sluice_queue_wait_seconds');
    expect(wait.map((h) => h.labels)).toEqual([{ pool: 'default', criticality: '2' }]);
    // p1 waited 0 s and w1 2 s (dispatched when p1 completed at 2000 ms); o1 was cancelled waiting.
    expect(wait[0]?.count).toBe(2);
    expect(wait[0]?.sum).toBeCloseTo(2, 9);
    expect(wait[0]?.buckets['1']).toBe(1);
    expect(wait[0]?.buckets['2.5']).toBe(2);
    expect(wait[0]?.buckets['+Inf']).toBe(2);
  });

  it('bounds workload labels to N plus other', () => {
    const big = new LocalScheduler({
      policy: createPolicy('fcfs'),
      backends: [{ name: 'b1', maxConcurrency: 1 }],
    });
    for (let w = 0; w < 200; w++) big.admit(`w${w}`, `r${w}`, 3, 0);
    const parsed = parseExposition(scrape(big, 10, 5));
    const labels = new Set(
      parsed.families.get('sluice_requests_received_total')?.metrics.map((x) => x.labels?.['workload']),
    );
    expect(labels.size).toBe(6);
    expect(labels.has('other')).toBe(true);
    expect(parsed.sum('sluice_requests_received_total')).toBe(200);
    expect(parsed.sum('sluice_workload_queued_requests')).toBe(199);
  });

  it('omits the fairness gauge until two workloads of one criticality compete', () => {
    expect(m.families.has('sluice_fairness_jain_index')).toBe(false);
  });
});
