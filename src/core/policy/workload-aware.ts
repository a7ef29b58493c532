// Sluice's default policy. Score, in milliseconds of "waiting equivalent":
//
//   not overdue (w < H):  score = S·(c − 1) − P·min(r / R, 1) − C·tag   (fairness = 'tokens', default)
//                         score = g + S·(c − 1) − P·min(r / R, 1)       (fairness = 'requests')
//   overdue     (w ≥ H):  score = H + 4·S + g
//
//   w  the head request's own wait: now − enqueuedAt
//   g  the workload's service gap: now − max(enqueuedAt, lastDispatchedAt)  (0 ≤ g ≤ w)
//   c  the head's criticality (1..5); S = criticalityStepMs
//   r  the workload's recent request rate; P = ratePenaltyMs, R = rateCapPerSec
//   H  agingHorizonMs
//   tag  the head's start tag in tokens, C = tokenCostMsPer1k / 1000 (see Token fairness below)
//
// Guarantee: every non-overdue score is < H + 4·S (g ≤ w < H, P ≥ 0, C·tag ≥ 0) and every overdue score is
// ≥ H + 4·S, so a request that has waited H outranks every request that has not, whatever its
// criticality. Among overdue heads the workload that has gone longest without a slot goes first, and a
// dispatch resets a workload’s gap to 0, so overdue workloads take turns: once a request is overdue and
// at the head of its workload, at most (number of other overdue workloads) slots go elsewhere before
// it is served. Its wait is bounded by H plus that many service turns, however deep the other queues
// are. (Plain oldest-first among overdue requests would let one workload's backlog of old requests
// delay everybody else's for as long as the backlog lasts.) Within a workload, overdue requests leave
// oldest first.
//
// Token fairness (fairness = 'tokens', the default): below the horizon the service-gap term is replaced
// by a start tag, as in start-time fair queuing over tokens (the Virtual Token Counter's rule, Sheng et al.,
// OSDI 2024): a non-overdue score is S·(c − 1) − P·min(r / R, 1) − C·tag, C = tokenCostMsPer1k / 1000. The
// dispatcher keeps the tags. A grant charges the head ρ·E tokens (E its estimate, ρ its workload's learned
// actual/estimate ratio, 1 until known) and sets the workload's finish tag to tag + ρ·E / w (w its weight,
// default 1); when the request ends, the finish tag (and a head already waiting on it) moves by (actual −
// ρ·E) / w, actual being the weighted usage the backend reported (see token-charge.ts for requests that
// end without usage). A workload that stays backlogged (its next head offered before its queue ran empty)
// continues from its finish tag; one joining the backlog starts at max(its finish tag, the smallest
// waiting start tag), so it cannot save up credit while idle and loses none while it waits. One
// criticality level is worth S / C tokens of tag (5,000 at the defaults). C·tag ≥ 0, so the overdue tier
// and the guarantee above are unchanged.
//
// Token bound. Take two workloads i, j of equal criticality that both keep a head waiting, not overdue,
// from a moment at which their start tags are equal (say both join an empty backlog). Let A be the tokens
// actually used by the requests each was granted since, w its weight, L the largest ρ·E / w of one grant,
// K the most requests it has in flight, D the largest |actual − ρ·E| of one request, G = P / C (2,000
// tokens at the defaults). Then at every moment
//   |A_i / w_i − A_j / w_j|  ≤  G + max(L_i, L_j) + 2·(K_i·D_i / w_i + K_j·D_j / w_j).
// Why: j is granted ahead of i only when C·tag_j − C·tag_i ≤ P·(penalty_i − penalty_j) ≤ P, so right
// after its last grant tag_j ≤ tag_i + G + L_j; after it, only true-ups of requests then in flight move
// the tags apart (at most K·D / w each); and a tag differs from A / w by the pending true-ups of its
// requests in flight (again at most K·D / w). The drift is bounded, whatever the run's length; weights
// make the shares A_i : A_j approach w_i : w_j. With exact estimates (D = 0) it is the classic SFQ bound
// plus G, the slack the rate penalty buys; charging estimates without the true-up would make D a per-
// request error that accumulates, so an over-asker's drift would grow with every request it sends.
// test/core/token-bound.test.ts checks the bound, the weight ratio and the aging bound with fast-check.
//
// Why g and not w below the horizon (request fairness): a workload that was just served has a small gap, so a burst (many
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
