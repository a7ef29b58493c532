// weighted: three tenants of equal criticality with weights 1, 2 and 4 under sustained backlog, and how
// close their token shares come to 1 : 2 : 4.

import { DEFAULT_QUEUE_TTL_MS } from '../../src/core/defaults.ts';
import { group, num, pct } from '../findings.ts';
import type { Scenario } from '../scenario.ts';
import type { RunSummary } from '../summarize.ts';

export type WeightedGroup = 'weight-1' | 'weight-2' | 'weight-4';

export const WEIGHTS: Readonly<Record<WeightedGroup, number>> = {
  'weight-1': 1,
  'weight-2': 2,
  'weight-4': 4,
};
/** The claim: each active share within this fraction of its weight's share (w / 7). */
export const WEIGHT_SHARE_TOLERANCE = 0.15;

const LOAD_MS = 180_000;

export const weighted: Scenario<WeightedGroup> = {
  name: 'weighted',
  title: 'Weighted: weights 1, 2 and 4 under sustained backlog',
  purpose:
    'Three tenants of equal criticality, each offering more than the backend can serve, configured with ' +
    'WORKLOAD_WEIGHTS 1, 2 and 4. Under token fairness they should be served tokens about 1 : 2 : 4 while all ' +
    'three are backlogged; the other policies have no weights.',
  seed: 7,
  backends: [{ name: 'gpu', slots: 4, ttftMs: 100, perTokenMs: 20 }],
  tokens: { kind: 'lognormal', medianTokens: 150, sigma: 0.5, maxTokens: 1000 },
  queueTtlMs: DEFAULT_QUEUE_TTL_MS,
  // A short queue per tenant keeps every wait under the aging horizon: past it, heads are served in
  // turns whatever their tags, and the shares would say nothing about token fairness.
  maxQueuePerWorkload: 6,
  workloads: (Object.keys(WEIGHTS) as WeightedGroup[]).map((id) => ({
    id,
    criticality: 3,
    weight: WEIGHTS[id],
    arrivals: { kind: 'poisson' as const, ratePerSec: 1.5, startMs: 0, endMs: LOAD_MS },
  })),
  notes: [
    'Mean length ≈ 170 tokens ≈ 3.5 s of slot time; 4 slots serve ≈ 1.15 req/s against 4.5 req/s offered (3.9×), and ' +
      'even the weight-4 tenant asks for more than its 4/7, so all three stay backlogged. At most 6 queued per tenant ' +
      '(the rest are turned away, 429), so no wait reaches the 30 s horizon.',
    'max_tokens is the distribution’s cap (1,000) for everyone: the estimate is 6× the mean length, and the ' +
      'true-up corrects it.',
  ],

  keyMetric: (run) =>
    `active token share w1 / w2 / w4: ${(Object.keys(WEIGHTS) as WeightedGroup[]).map((g) => share(run, g)).join(' / ')}`,

  findings(runs) {
    const out: string[] = [];
    const ideal = (Object.keys(WEIGHTS) as WeightedGroup[]).map((g) => pct(WEIGHTS[g] / 7)).join(' / ');
    out.push(
      `Active token shares (weight 1 / 2 / 4; the weights’ shares are ${ideal}): ${[...runs.values()]
        .map(
          (r) =>
            `${r.policy} ${(Object.keys(WEIGHTS) as WeightedGroup[]).map((g) => share(r, g)).join(' / ')}`,
        )
        .join('; ')}.`,
    );
    const tokens = runs.get('workload-aware+tokens');
    if (tokens) {
      const ratio = (g: WeightedGroup): number =>
        (group(tokens, g).activeTokenShare ?? 0) / (group(tokens, 'weight-1').activeTokenShare ?? NaN);
      out.push(
        `Under workload-aware+tokens the served ratio is 1 : ${num(ratio('weight-2'), 2)} : ${num(ratio('weight-4'), 2)}; ` +
          'weight shares capacity between tenants of one criticality and does not order them, so the p95 waits differ ' +
          'by share, not by rank.',
      );
    }
    return out;
  },
};

function share(run: RunSummary<WeightedGroup>, id: WeightedGroup): string {
  return pct(group(run, id).activeTokenShare);
}
