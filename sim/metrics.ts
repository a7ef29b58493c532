// What /metrics reports, under the metric names of the engine being simulated (vLLM or SGLang), so a
// scraper written for that engine reads the simulator unchanged. Values come from a snapshot; no I/O.

import type { SimEngine } from './options.ts';
import { renderExposition, type MetricFamily, type MetricType } from './prometheus-text.ts';

/** How an inference request ended; a low-cardinality label of `sluice_sim_requests_total`. */
export type SimOutcome = 'completed' | 'cancelled' | 'faulted' | 'rejected';

export const SIM_OUTCOMES: readonly SimOutcome[] = ['completed', 'cancelled', 'faulted', 'rejected'];

export interface MetricsSnapshot {
  readonly modelName: string;
  readonly running: number;
  readonly waiting: number;
  /** Fraction 0..1 of the KV cache held by running requests. */
  readonly kvCacheUsage: number;
  /** KV-cache tokens held by running requests, at most the capacity. */
  readonly kvCacheUsedTokens: number;
  readonly outcomes: Readonly<Record<SimOutcome, number>>;
  readonly promptTokens: number;
  readonly generationTokens: number;
}

export interface MetricsDialect {
  readonly engine: SimEngine;
  /** vLLM only: `vllm:gpu_cache_usage_perc` in place of `vllm:kv_cache_usage_perc`. */
  readonly vllmLegacyMetrics: boolean;
}

type ValueKey = Exclude<keyof MetricsSnapshot, 'modelName' | 'outcomes'>;

/** Cumulative token counts are counters; the rest are gauges. */
const TYPE_OF: Readonly<Record<ValueKey, MetricType>> = {
  running: 'gauge',
  waiting: 'gauge',
  kvCacheUsage: 'gauge',
  kvCacheUsedTokens: 'gauge',
  promptTokens: 'counter',
  generationTokens: 'counter',
};

type EngineFamily = readonly [value: ValueKey, name: string, help: string];

/** Names and HELP texts as vLLM's V1 Prometheus logger registers them. */
function vllmFamilies(legacy: boolean): readonly EngineFamily[] {
  return [
    ['running', 'vllm:num_requests_running', 'Number of requests in model execution batches.'],
    ['waiting', 'vllm:num_requests_waiting', 'Number of requests waiting to be processed.'],
    legacy
      ? ['kvCacheUsage', 'vllm:gpu_cache_usage_perc', 'GPU KV-cache usage. 1 means 100 percent usage.']
      : ['kvCacheUsage', 'vllm:kv_cache_usage_perc', 'KV-cache usage. 1 means 100 percent usage.'],
    ['promptTokens', 'vllm:prompt_tokens_total', 'Number of prefill tokens processed.'],
    ['generationTokens', 'vllm:generation_tokens_total', 'Number of generation tokens processed.'],
  ];
}

/** Names and HELP texts as SGLang's scheduler and tokenizer-manager collectors register them. */
const SGLANG_FAMILIES: readonly EngineFamily[] = [
  ['running', 'sglang:num_running_reqs', 'The number of running requests'],
  ['waiting', 'sglang:num_queue_reqs', 'The number of requests in the waiting queue'],
  ['kvCacheUsage', 'sglang:token_usage', 'The token usage'],
  ['kvCacheUsedTokens', 'sglang:num_used_tokens', 'The number of used tokens'],
  ['promptTokens', 'sglang:prompt_tokens_total', 'Number of prefill tokens processed.'],
  ['generationTokens', 'sglang:generation_tokens_total', 'Number of generation tokens processed.'],
];

export function renderMetrics(snapshot: MetricsSnapshot, dialect: MetricsDialect): string {
  const model = { model_name: snapshot.modelName };
  const engineFamilies =
    dialect.engine === 'sglang' ? SGLANG_FAMILIES : vllmFamilies(dialect.vllmLegacyMetrics);
  const families: MetricFamily[] = engineFamilies.map(([value, name, help]) => ({
    name,
    type: TYPE_OF[value],
    help,
    samples: [{ labels: model, value: snapshot[value] }],
  }));
  families.push({
    name: 'sluice_sim_requests_total',
    type: 'counter',
    help: 'Inference requests finished by the simulator, by outcome.',
    samples: SIM_OUTCOMES.map((outcome) => ({
      labels: { ...model, outcome },
      value: snapshot.outcomes[outcome],
    })),
  });
  return renderExposition(families);
}
