// What each scenario's numbers say, in sentences built from those numbers, plus the one key figure per
// run for the summary table. Claims that could flip with the numbers are conditional, so the prose
// cannot contradict the tables it sits above.

import { DEFAULT_AGING_HORIZON_MS, DEFAULT_CRITICALITY_STEP_MS } from '../src/core/defaults.ts';
import type { ArrivalPattern } from './arrivals.ts';
import { serviceTimeMs, type BackendModel } from './backend-model.ts';
import type { LabPolicyName } from './policies.ts';
import type { Scenario } from './scenario.ts';
import type { GroupSummary, RunSummary } from './summarize.ts';

const H_SEC = DEFAULT_AGING_HORIZON_MS / 1000;
const STEP_SEC = DEFAULT_CRITICALITY_STEP_MS / 1000;
/** Two p95 waits this close are "the same" for the prose. */
const NEAR_MS = 1000;
const WA: LabPolicyName = 'workload-aware';
const WA_TOKENS: LabPolicyName = 'workload-aware+tokens';

type Runs = ReadonlyMap<string, RunSummary>;

export function keyMetric(scenario: Scenario, run: RunSummary): string {
  switch (scenario.name) {
    case 'reference-criticality':
      return `mean completion position crit5 / crit3 / crit1: ${['crit5', 'crit3', 'crit1'].map((g) => num(group(run, g).meanCompletionPosition, 1)).join(' / ')}`;
    case 'starvation': {
      const t = group(run, 'trickle');
      return `trickle: max wait ${sec(t.waitMaxMs)}, ${t.evictedTtl} of ${t.requests} evicted`;
    }
    case 'burst-vs-steady':
      return `p95 wait steady / burst: ${sec(group(run, 'steady').waitP95Ms)} / ${sec(group(run, 'burst').waitP95Ms)}`;
    case 'many-tenants':
      return `p95 wait of light tenants (rank 101-1000) c1 / c3 / c5: ${[1, 3, 5].map((c) => sec(group(run, `c${c} rank 101-1000`).waitP95Ms)).join(' / ')}`;
    case 'heavy-tail': {
      const chat = ['chat-a', 'chat-b'].map((g) => group(run, g));
      return `chat p95 wait ${chat.map((c) => sec(c.waitP95Ms)).join(' / ')}; writers' token share ${pct(tokenShare(run, ['writer-a', 'writer-b']))}`;
    }
    default:
      return '';
  }
}

export function findings(scenario: Scenario, runs: Runs): string[] {
  switch (scenario.name) {
    case 'reference-criticality':
      return referenceFindings(runs);
    case 'starvation':
      return starvationFindings(scenario, runs);
    case 'burst-vs-steady':
      return burstFindings(runs);
    case 'many-tenants':
      return manyTenantsFindings(runs);
    case 'heavy-tail':
      return heavyTailFindings(scenario, runs);
    default:
      return [];
  }
}

function referenceFindings(runs: Runs): string[] {
  const out: string[] = [];
  const positions = (run: RunSummary): number[] =>
    ['crit5', 'crit3', 'crit1'].map((g) => group(run, g).meanCompletionPosition ?? Infinity);
  const ordered = (p: number[]): boolean =>
    (p[0] as number) < (p[1] as number) && (p[1] as number) < (p[2] as number);
  out.push(
    `Mean completion position (1 = finished first) of crit5 / crit3 / crit1: ${[...runs.values()]
      .map(
        (run) =>
          `${run.policy} ${positions(run)
            .map((p) => num(p, 1))
            .join(' / ')}`,
      )
      .join('; ')}.`,
  );
  const seed = runs.get('seed');
  if (seed) {
    out.push(
      ordered(positions(seed))
        ? 'seed drains strictly by criticality: 5, then 3, then 1.'
        : 'seed does not drain strictly by criticality.',
    );
  }
  const inOrder: string[] = [];
  for (const name of [WA, WA_TOKENS]) {
    const run = runs.get(name);
    if (!run) continue;
    const [p5, p3, p1] = positions(run) as [number, number, number];
    if (ordered([p5, p3, p1])) {
      inOrder.push(name);
    } else {
      out.push(
        `${name} finishes criticality 5 first (${num(p5, 1)}) but does not finish criticality 3 ahead of ` +
          `criticality 1 (${num(p3, 1)} vs ${num(p1, 1)}). The drain takes ${sec(run.endMs)}, and from t ≈ ${H_SEC} s every ` +
          `request left is older than the ${H_SEC} s aging horizon; overdue requests go oldest first whatever their ` +
          'criticality, and criticality 1 arrived first. Ordering by criticality holds only within the horizon.',
      );
    }
  }
  if (inOrder.length > 0) {
    out.push(
      `${inOrder.join(' and ')} finish${inOrder.length === 1 ? 'es' : ''} criticality 5 first, then 3, then 1.`,
    );
  }
  return out;
}

function starvationFindings(scenario: Scenario, runs: Runs): string[] {
  const out: string[] = [];
  const describe = (run: RunSummary): string => {
    const t = group(run, 'trickle');
    return `${run.policy} completes ${t.completed} of ${t.requests} trickle requests, evicts ${t.evictedTtl}, max wait ${sec(t.waitMaxMs)}`;
  };
  out.push(`${[...runs.values()].map(describe).join('; ')}.`);
  const seed = runs.get('seed');
  if (seed && group(seed, 'trickle').evictedTtl > 0) {
    out.push(
      'seed starves the trickle: its score’s wait term is the workload’s average past wait, which does not move ' +
        'while the workload is not dispatched, so criticality 1 never outranks the criticality-5 backlog and its ' +
        'requests leave by TTL.',
    );
  }
  const wa = runs.get('workload-aware');
  if (seed && wa && seed.jain !== null && wa.jain !== null && seed.jain < wa.jain - 0.1) {
    out.push(
      `seed also splits service unevenly between the two criticality-5 tenants (Jain ${num(seed.jain, 3)} vs ` +
        `${num(wa.jain, 3)} for workload-aware; the chart’s sawtooth): the same average-wait term lifts whichever ` +
        'tenant has waited longest on average, and that tenant then takes every slot until its average drops.',
    );
  }
  const fixed = scenario.tokens.kind === 'fixed' ? scenario.tokens.tokens : null;
  const backend = scenario.backends[0];
  if (wa && fixed !== null && backend) {
    const t = group(wa, 'trickle');
    const highMaxMs = Math.max(group(wa, 'batch-a').waitMaxMs ?? 0, group(wa, 'batch-b').waitMaxMs ?? 0);
    const boundMs = DEFAULT_AGING_HORIZON_MS + serviceTimeMs(backend, fixed);
    const bounded = t.evictedTtl === 0 && (t.waitMaxMs ?? Infinity) <= boundMs;
    const gapNote =
      (t.waitP50Ms ?? 0) > 4 * DEFAULT_CRITICALITY_STEP_MS
        ? ` It waits for the horizon rather than the ${(4 * DEFAULT_CRITICALITY_STEP_MS) / 1000} s that four ` +
          'criticality steps are worth: the service gap restarts at each of the trickle’s own dispatches, and it ' +
          'sends faster than one request per four steps, so its next request is usually rescued by aging instead.'
        : '';
    out.push(
      `workload-aware evicts ${t.evictedTtl} trickle requests; its median wait is ${sec(t.waitP50Ms)}, about the ${H_SEC} s ` +
        (bounded
          ? `horizon, and its maximum ${sec(t.waitMaxMs)} stays within the horizon plus one service time (${sec(boundMs)}).`
          : `horizon, but its maximum ${sec(t.waitMaxMs)} exceeds the horizon plus one service time (${sec(boundMs)}): ` +
            `once the criticality-5 requests are themselves older than the horizon (their max wait: ${sec(highMaxMs)}), ` +
            'overdue requests go oldest first and the trickle waits as long as the overload makes everyone wait. ' +
            'The bound is the horizon plus the overdue backlog ahead of it, and that backlog keeps growing for as ' +
            'long as the overload lasts; only the queue TTL caps it.') +
        gapNote,
    );
  }
  const tokens = runs.get(WA_TOKENS);
  if (tokens && fixed !== null && backend) {
    const t = group(tokens, 'trickle');
    const boundMs = DEFAULT_AGING_HORIZON_MS + serviceTimeMs(backend, fixed);
    const bounded = t.evictedTtl === 0 && (t.waitMaxMs ?? Infinity) <= boundMs;
    out.push(
      `${WA_TOKENS} evicts ${t.evictedTtl} trickle requests; median wait ${sec(t.waitP50Ms)}, maximum ${sec(t.waitMaxMs)}, ` +
        (bounded
          ? `within the same horizon plus one service time (${sec(boundMs)}): token fairness reorders tenants below ` +
            'the horizon only, and the overdue tier that rescues the trickle is unchanged.'
          : `beyond the horizon plus one service time (${sec(boundMs)}).`),
    );
    if (wa && tokens.jain !== null && wa.jain !== null && tokens.jain < wa.jain - 0.01) {
      const fcfs = runs.get('fcfs');
      const light = lightTokenDemand(scenario, tokens, ['batch-a', 'batch-b']);
      out.push(
        `It shares the slots between the two criticality-5 tenants less evenly than workload-aware (Jain ` +
          `${num(tokens.jain, 3)} vs ${num(wa.jain, 3)}${fcfs ? `; fcfs ${num(fcfs.jain, 3)}` : ''})` +
          (light ? `: ${light}.` : '.'),
      );
    }
  }
  return out;
}

function burstFindings(runs: Runs): string[] {
  const out = [
    `Steady tenant p95 / max wait: ${[...runs.values()]
      .map(
        (run) =>
          `${run.policy} ${sec(group(run, 'steady').waitP95Ms)} / ${sec(group(run, 'steady').waitMaxMs)}`,
      )
      .join(
        '; ',
      )}. The burst’s own p95: ${[...runs.values()].map((run) => `${run.policy} ${sec(group(run, 'burst').waitP95Ms)}`).join('; ')}.`,
  ];
  const fcfs = runs.get('fcfs');
  for (const name of [WA, WA_TOKENS]) {
    const run = runs.get(name);
    if (!run) continue;
    const steady = group(run, 'steady').waitP95Ms ?? Infinity;
    const burst = group(run, 'burst').waitP95Ms ?? 0;
    if (steady * 4 < burst) {
      out.push(
        `Under ${name} the steady tenant keeps its service (p95 ${num(steady / burst, 2)}× the burst’s)` +
          (name === WA
            ? ': the burst has just been served, so its service gap is short, and requests of the two tenants ' +
              'alternate instead of the steady one queueing behind all 40.'
            : '.'),
      );
      continue;
    }
    let line = `Under ${name} the steady tenant’s p95 is ${num(steady / burst, 2)}× the burst’s: not clearly separated.`;
    const fcfsSteady = fcfs ? group(fcfs, 'steady').waitP95Ms : null;
    if (name === WA_TOKENS && near(steady, fcfsSteady)) {
      line += ` The steady tenant waits as under fcfs (p95 ${sec(steady)} vs ${sec(fcfsSteady)}).`;
      const burstTokens = group(run, 'burst').meanTokens;
      const steadyTokens = group(run, 'steady').meanTokens;
      if (steadyTokens >= 2 * burstTokens) {
        line +=
          ' Start tags advance by tokens, not requests: a dispatch moves a tenant’s finish tag forward by its ' +
          `request’s tokens (burst ${Math.round(burstTokens)}, steady ${Math.round(steadyTokens)} on average) and ` +
          `the lower start tag goes first, so while both wait the burst is granted about ` +
          `${num(steadyTokens / burstTokens, 1)} requests per steady one.`;
      }
    }
    out.push(line);
  }
  return out;
}

function manyTenantsFindings(runs: Runs): string[] {
  const all = [...runs.values()];
  const any = all[0];
  if (!any) return [];
  const active = any.groups.reduce((sum, g) => sum + g.workloads, 0);
  const fcfs = runs.get('fcfs');
  const wa = runs.get('workload-aware');
  const seed = runs.get('seed');
  const out = [
    `${active} of the tenants sent at least one request (${any.requests} requests in all); at most ` +
      `${Math.max(...all.map((r) => r.peakReadyWorkloads))} were waiting for a slot at once.`,
  ];
  let jain = `Jain’s index (service within a criticality): ${all.map((r) => `${r.policy} ${num(r.jain, 3)}`).join('; ')}.`;
  if (fcfs && wa && fcfs.jain !== null && wa.jain !== null && fcfs.jain < wa.jain) {
    jain +=
      ' FCFS hands out slots in proportion to demand, so the heaviest tenants take the shares of the light ones.';
  }
  out.push(jain);
  const highP95 = (run: RunSummary): number =>
    Math.max(...run.groups.filter((g) => g.criticality >= 3).map((g) => g.waitP95Ms ?? 0));
  out.push(
    `p95 wait of criticality 3 to 5, worst group: ${all.map((r) => `${r.policy} ${sec(highP95(r))}`).join('; ')}. ` +
      `Criticality 1 (lowest): ${all
        .map(
          (r) =>
            `${r.policy} max wait ${sec(r.lowestCriticalityMaxWaitMs)}, ${r.lowestCriticalityEvicted} evicted`,
        )
        .join('; ')}.`,
  );
  if (wa && seed && seed.lowestCriticalityEvicted > 0 && wa.lowestCriticalityEvicted === 0) {
    const bounded = (wa.lowestCriticalityMaxWaitMs ?? Infinity) <= DEFAULT_AGING_HORIZON_MS + 1000;
    out.push(
      'seed and workload-aware both protect the higher criticalities during the overload; seed does it by ' +
        'evicting criticality-1 requests, workload-aware by making them wait' +
        (bounded ? ` up to the ${H_SEC} s horizon and no longer.` : ' (and none is evicted).'),
    );
  }
  const tokens = runs.get(WA_TOKENS);
  if (wa && tokens) {
    const light3 = 'c3 rank 101-1000';
    const heavy1 = 'c1 top 10';
    const heavyWaitMs = (run: RunSummary): number => group(run, heavy1).waitP50Ms ?? 0;
    out.push(
      `${WA_TOKENS} vs workload-aware: Jain ${num(tokens.jain, 3)} vs ${num(wa.jain, 3)}; p95 wait of the light ` +
        `criticality-3 tenants ${sec(group(tokens, light3).waitP95Ms)} vs ${sec(group(wa, light3).waitP95Ms)}; median ` +
        `wait of the top-10 criticality-1 tenants ${sec(group(tokens, heavy1).waitP50Ms)} vs ` +
        `${sec(group(wa, heavy1).waitP50Ms)}; ${tokens.lowestCriticalityEvicted} vs ${wa.lowestCriticalityEvicted} ` +
        'criticality-1 requests evicted.',
    );
    const levels = [4, 3, 2, 1];
    const longest = levels.map((c) =>
      Math.max(0, ...tokens.groups.filter((g) => g.criticality === c).map((g) => g.waitMaxMs ?? 0)),
    );
    if (longest.every((ms, i) => ms < (5 - (levels[i] as number)) * DEFAULT_CRITICALITY_STEP_MS)) {
      out.push(
        `Under ${WA_TOKENS} the longest wait of each criticality c stays under (5 − c) × ${STEP_SEC} s ` +
          `(c4 / c3 / c2 / c1: ${longest.map((ms) => sec(ms)).join(' / ')}), the pattern of a score of about ` +
          `wait + S·(c − 1) (see [Policies](#policies)): a criticality level is worth ${STEP_SEC} s of waiting, and ` +
          'a dispatch does not send a tenant to the back of its level.' +
          (heavyWaitMs(wa) >= DEFAULT_AGING_HORIZON_MS - NEAR_MS &&
          heavyWaitMs(tokens) < heavyWaitMs(wa) &&
          (group(tokens, light3).waitP95Ms ?? 0) > (group(wa, light3).waitP95Ms ?? 0)
            ? ' So busy low-criticality tenants are no longer held back to the aging horizon, and light ' +
              'higher-criticality tenants pay for it.'
            : ''),
      );
    }
  }
  out.push('Decision cost is wall-clock, so it is printed on stderr by `npm run sim`, not here.');
  return out;
}

function heavyTailFindings(scenario: Scenario, runs: Runs): string[] {
  const any = [...runs.values()][0];
  const backend = scenario.backends[0];
  if (!any || !backend) return [];
  const chats = ['chat-a', 'chat-b'];
  const writers = ['writer-a', 'writer-b'];
  const reqShare = requestShare(any, writers);
  const tokShare = tokenShare(any, writers);
  const costRatio = tokShare / reqShare / ((1 - tokShare) / (1 - reqShare));
  const longest = Math.max(...writers.map((w) => group(any, w).maxTokens));
  const out = [
    `The writers send ${pct(reqShare)} of the completed requests but generate ${pct(tokShare)} of the tokens ` +
      `(under ${any.policy}), so a writer request costs the backend ${num(costRatio, 1)}× a chat request. The longest ` +
      `writer generation (${longest} tokens) holds a slot for ${sec(serviceTimeMs(backend, longest))}.`,
    `Chat p95 wait (chat-a / chat-b): ${[...runs.values()]
      .map(
        (run) =>
          `${run.policy} ${sec(group(run, 'chat-a').waitP95Ms)} / ${sec(group(run, 'chat-b').waitP95Ms)}`,
      )
      .join('; ')}; writers (writer-a / writer-b): ${[...runs.values()]
      .map(
        (run) =>
          `${run.policy} ${sec(group(run, 'writer-a').waitP95Ms)} / ${sec(group(run, 'writer-b').waitP95Ms)}`,
      )
      .join('; ')}.`,
  ];
  const wa = runs.get(WA);
  const tokens = runs.get(WA_TOKENS);
  if (wa && tokens) {
    const p95 = (run: RunSummary, g: string): number => group(run, g).waitP95Ms ?? Infinity;
    const lower = chats.every((c) => p95(tokens, c) < p95(wa, c));
    const higher = chats.every((c) => p95(tokens, c) > p95(wa, c));
    const verdict = lower
      ? 'lowers both chat tenants’ p95 waits'
      : higher
        ? 'raises both chat tenants’ p95 waits'
        : 'moves the chat tenants’ p95 waits in opposite directions';
    out.push(
      `Charging tokens (${WA_TOKENS} vs workload-aware) ${verdict} ` +
        `(${chats.map((c) => `${c} ${sec(p95(tokens, c))} vs ${sec(p95(wa, c))}`).join(', ')})` +
        `${lower ? '' : ', so it does not put them first'}; Jain ` +
        `${num(tokens.jain, 3)} vs ${num(wa.jain, 3)}. The writers’ token share is ${pct(tokenShare(tokens, writers))} ` +
        `vs ${pct(tokenShare(wa, writers))}` +
        (tokens.completed === tokens.requests && wa.completed === wa.requests
          ? ': every request completes under both, so the shares are the offered mix, and a policy can only ' +
            'change who waits, not how many tokens each tenant is served in the end.'
          : '.'),
    );
    const light = lower ? null : lightTokenDemand(scenario, tokens, [...chats, ...writers]);
    if (light) {
      const fcfs = runs.get('fcfs');
      const likeFcfs =
        fcfs !== undefined && tokens.groups.every((g) => near(g.waitP95Ms, group(fcfs, g.group).waitP95Ms));
      out.push(
        `Why: ${light}` +
          (likeFcfs ? `; every tenant’s p95 is within ${sec(NEAR_MS)} of its fcfs p95.` : '.') +
          ' Start tags only hold a tenant back while it keeps a head waiting and is granted more tokens than ' +
          'the others (see [Policies](#policies)).',
      );
    }
  }
  const seed = runs.get('seed');
  if (seed && seed.evictedTtl > 0) {
    out.push(
      `seed evicts ${seed.evictedTtl} requests at ≈ 80% load: a tenant whose average past wait is low keeps a low ` +
        'score while it waits, because that average only moves when the tenant is dispatched.',
    );
  }
  return out;
}

/**
 * Token fairness is start-time fair queuing over tokens (see src/core/dispatcher.ts): when a head is first
 * offered, its start tag is the later of its workload's finish tag (its last granted tag + that request's
 * tokens) and the virtual time (the largest tag granted so far); among equal criticality the lower tag
 * goes first, ties oldest first.
 * A workload that asks for well under an equal share of the backends' tokens is usually passed by the
 * virtual time before its next head is offered, so that head starts at the virtual time, and heads that
 * start there go in the order they were offered. Returns that explanation when every listed workload asks
 * for less than half an equal share on average (mean tokens / mean arrival gap), else null.
 */
function lightTokenDemand(scenario: Scenario, run: RunSummary, ids: readonly string[]): string | null {
  const demands = ids.map((id) => {
    const w = scenario.workloads.find((x) => x.id === id);
    if (!w) throw new Error(`findings: ${scenario.name} has no workload ${id}`);
    const gapMs = meanArrivalGapMs(w.arrivals);
    return gapMs === 0 ? Infinity : (group(run, id).meanTokens * 1000) / gapMs;
  });
  const shareTokensPerSec = tokenRatePerSec(scenario.backends) / ids.length;
  if (demands.some((d) => d * 2 >= shareTokensPerSec)) return null;
  const rounded = demands.map(Math.round);
  const [lo, hi] = [Math.min(...rounded), Math.max(...rounded)];
  return (
    `each tenant asks for ${lo === hi ? lo : `${lo}–${hi}`} tokens/s on average, under half an equal share of ` +
    `the backends’ ${Math.round(tokenRatePerSec(scenario.backends))} tokens/s, so the virtual time usually ` +
    'passes a tenant’s finish tag before its next head is offered; that head then starts at the virtual time, ' +
    'and heads that start there go in the order they were offered, close to oldest first'
  );
}

/** Tokens per second the backends generate with every slot busy, time to first token aside. */
function tokenRatePerSec(backends: readonly BackendModel[]): number {
  return backends.reduce((sum, b) => sum + (b.slots * 1000) / b.perTokenMs, 0);
}

function meanArrivalGapMs(arrivals: ArrivalPattern): number {
  switch (arrivals.kind) {
    case 'periodic':
      return arrivals.intervalMs;
    case 'burst':
      return 0;
    case 'poisson':
      return 1000 / arrivals.ratePerSec;
  }
}

function near(a: number | null, b: number | null): boolean {
  return a !== null && b !== null && Math.abs(a - b) <= NEAR_MS;
}

function group(run: RunSummary, name: string): GroupSummary {
  const g = run.groups.find((x) => x.group === name);
  if (!g) throw new Error(`findings: ${run.scenario}/${run.policy} has no group ${name}`);
  return g;
}

function requestShare(run: RunSummary, names: readonly string[]): number {
  return names.reduce((sum, n) => sum + group(run, n).requestShare, 0);
}

function tokenShare(run: RunSummary, names: readonly string[]): number {
  return names.reduce((sum, n) => sum + group(run, n).tokenShare, 0);
}

export function sec(ms: number | null): string {
  return ms === null ? 'n/a' : `${(ms / 1000).toFixed(1)} s`;
}

export function num(value: number | null, digits: number): string {
  return value === null || !Number.isFinite(value) ? 'n/a' : value.toFixed(digits);
}

export function pct(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}
