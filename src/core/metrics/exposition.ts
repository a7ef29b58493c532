// Renders the pools' summaries in the Prometheus text exposition format (version 0.0.4): base units
// (seconds), `_total` counters, a histogram for queue wait. Pure: the Worker's /metrics route gathers
// one summary per pool and passes them here. Label values are bounded (pool.ts: configured pools;
// workloads: the top N per pool plus `other`; reasons and states: fixed vocabularies).

import { outcomeOf, REASONS } from '../outcome.ts';
import { CRITICALITIES, decodeSparse, IX, queuedOf, WAIT_BUCKETS_SEC } from './counter-layout.ts';
import { OTHER_WORKLOADS, type PoolMetricsSnapshot, type WorkloadSummary } from './pool-summary.ts';

export interface PoolMetricsInput {
  readonly pool: string;
  readonly summary: PoolMetricsSnapshot;
}

export interface ExpositionInput {
  readonly pools: readonly PoolMetricsInput[];
  /** Invalid configurations this isolate has seen (config.ts). */
  readonly configErrors: number;
  readonly topWorkloads: number;
  /** False when the router runs on an invalid configuration (then `pools` is empty). Default true. */
  readonly configValid?: boolean;
  /** Failed authentications for the whole deployment, by reason (src/worker/auth-failures.ts). */
  readonly authFailures?: Readonly<Record<string, number>>;
}

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const BACKEND_STATES = ['healthy', 'cooling', 'probing', 'half_open'] as const;

type Labels = Readonly<Record<string, string>>;

interface Family {
  readonly help: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  readonly lines: string[];
}

/**
 * The workload label: a workload's own ID, except that `other` names the aggregate. A real workload
 * called `other`, or whose ID starts with `=`, gets one more `=` in front, so no two series collide.
 */
export function workloadLabel(workloadId: string): string {
  return workloadId === OTHER_WORKLOADS || workloadId.startsWith('=') ? `=${workloadId}` : workloadId;
}

export function renderPrometheus(input: ExpositionInput): string {
  const families = new Map<string, Family>();
  const family = (name: string, type: Family['type'], help: string): Family => {
    let f = families.get(name);
    if (!f) families.set(name, (f = { help, type, lines: [] }));
    return f;
  };
  const sample = (f: Family, name: string, labels: Labels, value: number): void => {
    f.lines.push(`${name}${formatLabels(labels)} ${formatValue(value)}`);
  };

  const requests = family(
    'sluice_requests_total',
    'counter',
    'Requests that ended, by pool, workload (top N by recent traffic, plus other), outcome and reason.',
  );
  const received = family(
    'sluice_requests_received_total',
    'counter',
    'Requests that arrived, by pool and workload (top N plus other).',
  );
  const queued = family(
    'sluice_workload_queued_requests',
    'gauge',
    'Requests waiting in the queue, by pool and workload (top N plus other).',
  );
  const inFlight = family(
    'sluice_workload_in_flight_requests',
    'gauge',
    'Requests running on a backend, by pool and workload (top N plus other).',
  );
  const tokens = family(
    'sluice_tokens_total',
    'counter',
    'Tokens the backends reported (usage), by pool, workload (top N plus other) and type (prompt, completion).',
  );
  const wait = family(
    'sluice_queue_wait_seconds',
    'histogram',
    'Time from arrival to dispatch of each dispatched request, by pool and criticality.',
  );
  const backendInFlight = family(
    'sluice_backend_in_flight_requests',
    'gauge',
    'Requests Sluice is running on the backend (leases held).',
  );
  const slots = family('sluice_backend_slots', 'gauge', 'The backend maxConcurrency: slots Sluice may fill.');
  const engineWaiting = family(
    'sluice_backend_engine_waiting_requests',
    'gauge',
    'Requests waiting inside the engine, as Sluice estimates them from its last scrape (saturation on, fresh scrape only).',
  );
  const kvCache = family(
    'sluice_backend_kv_cache_usage_ratio',
    'gauge',
    'KV-cache use (0-1) from the engine at its last scrape (saturation on, fresh scrape only).',
  );
  const saturated = family(
    'sluice_backend_saturated',
    'gauge',
    '1 while the engine counts as saturated (it gets nothing new), else 0.',
  );
  const healthy = family('sluice_backend_healthy', 'gauge', '1 when the backend is in full health, else 0.');
  const state = family(
    'sluice_backend_state',
    'gauge',
    'The backend health state: 1 for the current one of healthy, cooling, probing, half_open.',
  );
  const failovers = family(
    'sluice_backend_failovers_total',
    'counter',
    'Dispatches that failed on this backend before the first byte and went to another backend of the pool.',
  );
  const leaseExpiries = family(
    'sluice_lease_expiries_total',
    'counter',
    'Leases that expired unreleased (their Worker was presumed gone and the slot taken back).',
  );
  const recovering = family(
    'sluice_pool_recovering_workloads',
    'gauge',
    'After a coordinator restart: known workloads it still waits to hear from before it grants again; 0 when serving.',
  );
  const jain = family(
    'sluice_fairness_jain_index',
    'gauge',
    "Jain's index of service among backlogged workloads of equal criticality over the last minute (as the policy lab defines it); absent when no two workloads competed.",
  );
  const jainByCrit = family(
    'sluice_fairness_jain_index_by_criticality',
    'gauge',
    "Jain's index over the last minute within one criticality level; absent when no two workloads of that level competed.",
  );
  const workloads = family(
    'sluice_workloads',
    'gauge',
    'Workloads currently known to the pool coordinator (each one is labelled only if in the top N).',
  );
  const topN = family(
    'sluice_metrics_top_workloads',
    'gauge',
    'N: workloads labelled per pool before `other`.',
  );
  const badReports = family(
    'sluice_metrics_bad_reports_total',
    'counter',
    'Workload reports the coordinator could not read (different counter layout during a deploy).',
  );
  const auth = family(
    'sluice_auth_failures_total',
    'counter',
    'Requests refused for bad or missing credentials, by reason (missing, malformed, unknown, revoked, workload_not_allowed, admin_token).',
  );
  const configErrors = family(
    'sluice_config_errors_total',
    'counter',
    'Invalid configurations this Worker isolate has loaded (every request fails while one is in place).',
  );

  for (const { pool, summary } of input.pools) {
    const rows: WorkloadSummary[] = [...summary.top, summary.other];
    for (const row of rows) {
      const c = decodeSparse(row.counters);
      const workload = row === summary.other ? OTHER_WORKLOADS : workloadLabel(row.workloadId);
      const base = { pool, workload };
      for (const reason of REASONS) {
        const n = c[IX.ended(reason)] as number;
        if (n !== 0)
          sample(requests, 'sluice_requests_total', { ...base, outcome: outcomeOf(reason), reason }, n);
      }
      sample(received, 'sluice_requests_received_total', base, c[IX.requests] as number);
      sample(queued, 'sluice_workload_queued_requests', base, queuedOf(c));
      sample(inFlight, 'sluice_workload_in_flight_requests', base, c[IX.inFlight] as number);
      sample(tokens, 'sluice_tokens_total', { ...base, type: 'prompt' }, c[IX.promptTokens] as number);
      sample(
        tokens,
        'sluice_tokens_total',
        { ...base, type: 'completion' },
        c[IX.completionTokens] as number,
      );
    }

    const totals = decodeSparse(summary.totals);
    for (const lvl of CRITICALITIES) {
      const count = totals[IX.level(lvl, 'dispatched')] as number;
      if (count === 0) continue;
      const labels = { pool, criticality: String(lvl) };
      let cumulative = 0;
      WAIT_BUCKETS_SEC.forEach((le, i) => {
        cumulative += totals[IX.bucket(lvl, i)] as number;
        sample(wait, 'sluice_queue_wait_seconds_bucket', { ...labels, le: String(le) }, cumulative);
      });
      sample(wait, 'sluice_queue_wait_seconds_bucket', { ...labels, le: '+Inf' }, count);
      sample(
        wait,
        'sluice_queue_wait_seconds_sum',
        labels,
        (totals[IX.level(lvl, 'waitSumMs')] as number) / 1000,
      );
      sample(wait, 'sluice_queue_wait_seconds_count', labels, count);
    }

    const failoversOf = new Map(summary.failovers.map((f) => [f.backend, f.count]));
    for (const b of summary.backends) {
      const labels = { pool, backend: b.name };
      sample(backendInFlight, 'sluice_backend_in_flight_requests', labels, b.inFlight);
      sample(slots, 'sluice_backend_slots', labels, b.maxConcurrency);
      if (b.load?.fresh && b.load.estimatedWaiting !== null) {
        sample(engineWaiting, 'sluice_backend_engine_waiting_requests', labels, b.load.estimatedWaiting);
      }
      if (b.load?.fresh && b.load.kvCacheUsage !== null) {
        sample(kvCache, 'sluice_backend_kv_cache_usage_ratio', labels, b.load.kvCacheUsage);
      }
      sample(saturated, 'sluice_backend_saturated', labels, b.load?.saturated ? 1 : 0);
      sample(healthy, 'sluice_backend_healthy', labels, b.state === 'healthy' ? 1 : 0);
      for (const s of BACKEND_STATES)
        sample(state, 'sluice_backend_state', { ...labels, state: s }, b.state === s ? 1 : 0);
      sample(failovers, 'sluice_backend_failovers_total', labels, failoversOf.get(b.name) ?? 0);
    }
    sample(leaseExpiries, 'sluice_lease_expiries_total', { pool }, summary.leaseExpiries);
    if (summary.recovering !== undefined)
      sample(recovering, 'sluice_pool_recovering_workloads', { pool }, summary.recovering);
    if (summary.fairness.overall !== null)
      sample(jain, 'sluice_fairness_jain_index', { pool }, summary.fairness.overall);
    for (const { criticality: lvl, jain: value } of summary.fairness.byCriticality) {
      if (value !== null) {
        sample(
          jainByCrit,
          'sluice_fairness_jain_index_by_criticality',
          { pool, criticality: String(lvl) },
          value,
        );
      }
    }
    sample(workloads, 'sluice_workloads', { pool }, summary.workloadCount);
    sample(badReports, 'sluice_metrics_bad_reports_total', { pool }, summary.badReports);
  }
  const configValid = input.configValid ?? true;
  if (configValid) sample(topN, 'sluice_metrics_top_workloads', {}, input.topWorkloads);
  sample(
    family(
      'sluice_config_valid',
      'gauge',
      '1 while the configuration is valid; 0 while every route but /metrics fails.',
    ),
    'sluice_config_valid',
    {},
    configValid ? 1 : 0,
  );
  for (const [reason, n] of Object.entries(input.authFailures ?? {})) {
    sample(auth, 'sluice_auth_failures_total', { reason }, n);
  }
  sample(configErrors, 'sluice_config_errors_total', {}, input.configErrors);

  const out: string[] = [];
  for (const [name, f] of families) {
    if (f.lines.length === 0) continue;
    out.push(`# HELP ${name} ${escapeHelp(f.help)}`, `# TYPE ${name} ${f.type}`, ...f.lines);
  }
  return out.join('\n') + '\n';
}

function formatLabels(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

/** Label values escape backslash, double quote and line feed (the exposition format's rule). */
export function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function formatValue(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  return String(n);
}
