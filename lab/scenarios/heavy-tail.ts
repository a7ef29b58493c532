// heavy-tail: four tenants with equal request rates and very unequal completion lengths, and what each
// policy's waits and token shares say about charging tokens instead of requests.

import { DEFAULT_QUEUE_TTL_MS } from '../../src/core/defaults.ts';
import { serviceTimeMs } from '../backend-model.ts';
import { group, near, NEAR_MS, num, pct, requestShare, sec, tokenShare, WA, WA_TOKENS } from '../findings.ts';
import type { Scenario } from '../scenario.ts';
import type { RunSummary } from '../summarize.ts';
import { lightTokenDemand } from '../token-fairness-prose.ts';

export type HeavyTailGroup = 'chat-a' | 'chat-b' | 'writer-a' | 'writer-b';
const CHATS: readonly HeavyTailGroup[] = ['chat-a', 'chat-b'];
const WRITERS: readonly HeavyTailGroup[] = ['writer-a', 'writer-b'];

export const heavyTail: Scenario<HeavyTailGroup> = {
  name: 'heavy-tail',
  title: 'Heavy tail: equal request rates, very unequal completion lengths',
  purpose:
    'Four tenants of equal criticality send the same request rate; two ask for short chat answers, two for ' +
    'long, heavy-tailed generations. Request-counting policies give them equal request shares; the token ' +
    'shares show how much of the backend each really gets. Does charging tokens (workload-aware+tokens) put ' +
    'the chat tenants first?',
  seed: 5,
  backends: [
    { name: 'gpu0', slots: 4, ttftMs: 150, perTokenMs: 25 },
    { name: 'gpu1', slots: 4, ttftMs: 150, perTokenMs: 25 },
  ],
  tokens: { kind: 'lognormal', medianTokens: 60, sigma: 0.5, maxTokens: 1000 },
  queueTtlMs: DEFAULT_QUEUE_TTL_MS,
  workloads: [
    {
      id: 'chat-a',
      criticality: 3,
      arrivals: { kind: 'poisson', ratePerSec: 0.45, startMs: 0, endMs: 300_000 },
    },
    {
      id: 'chat-b',
      criticality: 3,
      arrivals: { kind: 'poisson', ratePerSec: 0.45, startMs: 0, endMs: 300_000 },
    },
    {
      id: 'writer-a',
      criticality: 3,
      arrivals: { kind: 'poisson', ratePerSec: 0.45, startMs: 0, endMs: 300_000 },
      tokens: { kind: 'pareto', minTokens: 40, alpha: 1.1, maxTokens: 8000 },
    },
    {
      id: 'writer-b',
      criticality: 3,
      arrivals: { kind: 'poisson', ratePerSec: 0.45, startMs: 0, endMs: 300_000 },
      tokens: { kind: 'pareto', minTokens: 40, alpha: 1.1, maxTokens: 8000 },
    },
  ],
  notes: [
    'Chat: mean ≈ 68 tokens ≈ 1.8 s of slot time. Writers: Pareto α 1.1 capped at 8,000 tokens (200 s, under the ' +
      '10 min lease): mean ≈ 205 tokens ≈ 5.3 s, with rare generations of minutes. Offered ≈ 80% of 8 slots.',
  ],

  keyMetric: (run) =>
    `chat p95 wait ${CHATS.map((c) => sec(group(run, c).waitP95Ms)).join(' / ')}; writers' token share ${pct(tokenShare(run, WRITERS))}`,

  findings(runs) {
    const any = [...runs.values()][0];
    const backend = heavyTail.backends[0];
    if (!any || !backend) return [];
    const reqShare = requestShare(any, WRITERS);
    const tokShare = tokenShare(any, WRITERS);
    const costRatio = tokShare / reqShare / ((1 - tokShare) / (1 - reqShare));
    const longest = Math.max(...WRITERS.map((w) => group(any, w).maxTokens));
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
      const p95 = (run: RunSummary<HeavyTailGroup>, g: HeavyTailGroup): number =>
        group(run, g).waitP95Ms ?? Infinity;
      const lower = CHATS.every((c) => p95(tokens, c) < p95(wa, c));
      const higher = CHATS.every((c) => p95(tokens, c) > p95(wa, c));
      const verdict = lower
        ? 'lowers both chat tenants’ p95 waits'
        : higher
          ? 'raises both chat tenants’ p95 waits'
          : 'moves the chat tenants’ p95 waits in opposite directions';
      out.push(
        `Charging tokens (${WA_TOKENS} vs workload-aware) ${verdict} ` +
          `(${CHATS.map((c) => `${c} ${sec(p95(tokens, c))} vs ${sec(p95(wa, c))}`).join(', ')})` +
          `${lower ? '' : ', so it does not put them first'}; Jain ` +
          `${num(tokens.jain, 3)} vs ${num(wa.jain, 3)}. The writers’ token share is ${pct(tokenShare(tokens, WRITERS))} ` +
          `vs ${pct(tokenShare(wa, WRITERS))}` +
          (tokens.completed === tokens.requests && wa.completed === wa.requests
            ? ': every request completes under both, so the shares are the offered mix, and a policy can only ' +
              'change who waits, not how many tokens each tenant is served in the end.'
            : '.'),
      );
      const light = lower ? null : lightTokenDemand(heavyTail, tokens, [...CHATS, ...WRITERS]);
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
  },
};
