// Sluice's default policy. Score, in milliseconds of "waiting equivalent":
//
//   not overdue (w < H):  score = g + S·(c − 1) − P·min(r / R, 1)
//   overdue     (w ≥ H):  score = H + 4·S + g
//
//   w  the head request's own wait: now − enqueuedAt
//   g  the workload's service gap: now − max(enqueuedAt, lastDispatchedAt)  (0 ≤ g ≤ w)
//   c  the head's criticality (1..5); S = criticalityStepMs
//   r  the workload's recent request rate; P = ratePenaltyMs, R = rateCapPerSec
//   H  agingHorizonMs
//
// Guarantee: every non-overdue score is < H + 4·S (g ≤ w < H, P ≥ 0) and every overdue score is
// ≥ H + 4·S, so a request that has waited H outranks every request that has not, whatever its
// criticality. Among overdue heads the workload that has gone longest without a slot goes first, and a
// dispatch resets a workload’s gap to 0, so overdue workloads take turns: once a request is overdue and
// at the head of its workload, at most (number of other overdue workloads) slots go elsewhere before
// it is served. Its wait is bounded by H plus that many service turns, however deep the other queues
// are. (Plain oldest-first among overdue requests would let one workload's backlog of old requests
// delay everybody else's for as long as the backlog lasts.) Within a workload, overdue requests leave
// oldest first.
//
// Token fairness (fairness = 'tokens'): below the horizon the service-gap term is replaced by a start tag,
// as in start-time fair queuing over tokens (in the spirit of the Virtual Token Counter, Sheng et al.,
// OSDI 2024): a non-overdue score is S·(c − 1) − P·min(r / R, 1) − C·tag, where tag = max(the workload's
// finish tag, the dispatcher's virtual time) when the head is offered, a dispatch sets the virtual time to
// the granted head's tag and the workload's finish tag to tag + T (T the request's token estimate), and
// C = tokenCostMsPer1k / 1000. Among equal criticality the workload served the fewest tokens goes first;
// a workload that was idle joins at the current virtual time, so it cannot save up credit; a burst
// advances its own tag with each request, so it alternates with steady tenants. One criticality level is
// worth S / C tokens of tag (5,000 at the defaults): a workload that far behind a higher-criticality one
// goes first. C·tag ≥ 0, so the overdue tier and the guarantee above are unchanged.
//
// Why g and not w below the horizon: a workload that was just served has a small gap, so a burst (many
// requests with the same old arrival time) alternates with other workloads instead of holding every
// slot until it drains, and a noisy tenant cannot crowd out a quiet one. Higher criticality goes first at
// equal gap; among equal criticality, a heavy workload yields by up to P ms to a light one.

import {
  DEFAULT_AGING_HORIZON_MS,
  DEFAULT_CRITICALITY_STEP_MS,
  DEFAULT_RATE_CAP_PER_SEC,
  DEFAULT_RATE_PENALTY_MS,
  DEFAULT_TOKEN_COST_MS_PER_1K,
} from '../defaults.ts';
import type { HeadView, Policy, WorkloadSignals } from './types.ts';

export const FAIRNESS_MODES = ['requests', 'tokens'] as const;
export type Fairness = (typeof FAIRNESS_MODES)[number];

export interface WorkloadAwareParams {
  readonly agingHorizonMs: number;
  readonly criticalityStepMs: number;
  readonly ratePenaltyMs: number;
  readonly rateCapPerSec: number;
  readonly fairness: Fairness;
  /**
   * Under token fairness: the weight of 1,000 tokens of start tag, in the units of criticalityStepMs. At
   * the defaults, being 5,000 tokens ahead of a peer costs as much as one criticality level.
   */
  readonly tokenCostMsPer1k: number;
}

export const DEFAULT_WORKLOAD_AWARE_PARAMS: WorkloadAwareParams = Object.freeze({
  agingHorizonMs: DEFAULT_AGING_HORIZON_MS,
  criticalityStepMs: DEFAULT_CRITICALITY_STEP_MS,
  ratePenaltyMs: DEFAULT_RATE_PENALTY_MS,
  rateCapPerSec: DEFAULT_RATE_CAP_PER_SEC,
  fairness: 'tokens',
  tokenCostMsPer1k: DEFAULT_TOKEN_COST_MS_PER_1K,
});

export function validateWorkloadAwareParams(p: WorkloadAwareParams): void {
  const check = (name: keyof WorkloadAwareParams, ok: boolean, want: string): void => {
    if (!ok) throw new TypeError(`workload-aware policy: ${name} must be ${want}, got ${String(p[name])}`);
  };
  check('agingHorizonMs', Number.isFinite(p.agingHorizonMs) && p.agingHorizonMs > 0, 'a positive number');
  check('criticalityStepMs', Number.isFinite(p.criticalityStepMs) && p.criticalityStepMs >= 0, '≥ 0');
  check('ratePenaltyMs', Number.isFinite(p.ratePenaltyMs) && p.ratePenaltyMs >= 0, '≥ 0');
  check('rateCapPerSec', Number.isFinite(p.rateCapPerSec) && p.rateCapPerSec > 0, 'a positive number');
  check('fairness', FAIRNESS_MODES.includes(p.fairness), `one of ${FAIRNESS_MODES.join(', ')}`);
  check('tokenCostMsPer1k', Number.isFinite(p.tokenCostMsPer1k) && p.tokenCostMsPer1k >= 0, '≥ 0');
}

export function createWorkloadAwarePolicy(params: Partial<WorkloadAwareParams> = {}): Policy {
  const p: WorkloadAwareParams = Object.freeze({ ...DEFAULT_WORKLOAD_AWARE_PARAMS, ...params });
  validateWorkloadAwareParams(p);

  const staticPart = (head: HeadView, signals: WorkloadSignals): number =>
    p.criticalityStepMs * (head.criticality - 1) -
    p.ratePenaltyMs * Math.min(signals.requestRatePerSec / p.rateCapPerSec, 1);
  const gapStart = (head: HeadView, signals: WorkloadSignals): number =>
    Math.max(head.enqueuedAt, signals.lastDispatchedAt ?? -Infinity);
  const costPerToken = p.tokenCostMsPer1k / 1000;
  // The time-invariant part of the score below the horizon: all of it under token fairness, score − now
  // otherwise.
  const belowHorizonKey =
    p.fairness === 'tokens'
      ? (head: HeadView, signals: WorkloadSignals): number =>
          staticPart(head, signals) - costPerToken * (signals.serviceTag ?? 0)
      : (head: HeadView, signals: WorkloadSignals): number =>
          staticPart(head, signals) - gapStart(head, signals);

  return {
    name: 'workload-aware',
    queueOrder: 'criticality',
    agingHorizonMs: p.agingHorizonMs,
    fairness: p.fairness,
    score(head, signals, now) {
      if (now - head.enqueuedAt >= p.agingHorizonMs) {
        // The gap is ≥ 0 unless the clocks of two hosts disagree; clamp so the tier bound stays exact.
        return p.agingHorizonMs + 4 * p.criticalityStepMs + Math.max(0, now - gapStart(head, signals));
      }
      return p.fairness === 'tokens' ? belowHorizonKey(head, signals) : now + belowHorizonKey(head, signals);
    },
    rankKey: belowHorizonKey,
    overdueKey: (head, signals) => -gapStart(head, signals),
  };
}
