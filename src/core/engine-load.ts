// An inference engine's live load (queue, batch, KV cache) read from its Prometheus samples.
// Owns the engines' metric names and how several series of one metric combine; knows nothing of
// thresholds (saturation.ts) or of how the body was fetched.

import type { Sample } from './prometheus-text.ts';

export type EngineKind = 'vllm' | 'sglang';

export interface EngineLoad {
  readonly engine: EngineKind;
  /** Requests queued inside the engine, not yet in its batch. */
  readonly waiting: number;
  /** Requests in the engine's running batch. */
  readonly running: number;
  /** Fraction 0..1 of KV-cache capacity in use, or null when the engine does not report it. */
  readonly kvCacheUsage: number | null;
}

/**
 * vLLM (v0 and v1). `kv_cache_usage_perc` is a fraction 0..1 despite its name; it replaced
 * `gpu_cache_usage_perc` (same meaning) in the v1 engine, and some versions publish both. Series are
 * labelled `model_name`, and in v1 also `engine` (one per data-parallel engine core).
 */
export const VLLM_METRICS = Object.freeze({
  waiting: 'vllm:num_requests_waiting',
  running: 'vllm:num_requests_running',
  kvCacheUsage: 'vllm:kv_cache_usage_perc',
  kvCacheUsageLegacy: 'vllm:gpu_cache_usage_perc',
});

/**
 * SGLang. `token_usage` is the fraction 0..1 of the KV token pool in use. Series are labelled
 * `model_name`, `engine_type`, `tp_rank`, `pp_rank` and, with data-parallel attention, `dp_rank`; only
 * the first tensor-parallel rank of each scheduler publishes, so each series is a separate queue. SGLang
 * refreshes these gauges per prefill batch and every few decode steps, and only every 30 s when idle
 * (recent versions): an idle server can show its last busy values for that long.
 */
export const SGLANG_METRICS = Object.freeze({
  waiting: 'sglang:num_queue_reqs',
  running: 'sglang:num_running_reqs',
  kvCacheUsage: 'sglang:token_usage',
});

/** Every name readEngineLoad reads: pass it as `only` to parsePrometheusText to skip everything else. */
export const ENGINE_LOAD_METRIC_NAMES: ReadonlySet<string> = new Set([
  ...Object.values(VLLM_METRICS),
  ...Object.values(SGLANG_METRICS),
]);

/** The finite samples of one metric, combined. */
interface Series {
  sum: number;
  max: number;
}

/**
 * The engine's load, or null when the samples hold neither engine's waiting and running gauges (not an
 * engine we know, metrics disabled, or a page from something else).
 *
 * One server can publish several series of a metric: one per data-parallel engine (vLLM `engine`, SGLang
 * `dp_rank`) or per served model name. Each is a separate queue and batch, so waiting and running are
 * summed; KV usage is the maximum, because the fullest cache is the one a new request may land on and
 * wait behind. Non-finite samples (NaN from an engine that has not computed a value yet, ±Inf) are
 * ignored rather than read as "infinitely full"; a metric whose every sample is non-finite counts as
 * absent. Counts below 0 read as 0 and KV usage is clamped to [0, 1]. If both engines' metrics appear,
 * vLLM's are used.
 */
export function readEngineLoad(samples: readonly Sample[]): EngineLoad | null {
  const series = new Map<string, Series>();
  for (const s of samples) {
    if (!ENGINE_LOAD_METRIC_NAMES.has(s.name) || !Number.isFinite(s.value)) continue;
    const acc = series.get(s.name);
    if (acc === undefined) series.set(s.name, { sum: Math.max(0, s.value), max: s.value });
    else {
      acc.sum += Math.max(0, s.value);
      acc.max = Math.max(acc.max, s.value);
    }
  }

  const vllmWaiting = series.get(VLLM_METRICS.waiting);
  const vllmRunning = series.get(VLLM_METRICS.running);
  if (vllmWaiting !== undefined && vllmRunning !== undefined) {
    const kv = series.get(VLLM_METRICS.kvCacheUsage) ?? series.get(VLLM_METRICS.kvCacheUsageLegacy);
    return load('vllm', vllmWaiting, vllmRunning, kv);
  }
  const sglangWaiting = series.get(SGLANG_METRICS.waiting);
  const sglangRunning = series.get(SGLANG_METRICS.running);
  if (sglangWaiting !== undefined && sglangRunning !== undefined) {
    return load('sglang', sglangWaiting, sglangRunning, series.get(SGLANG_METRICS.kvCacheUsage));
  }
  return null;
}

function load(engine: EngineKind, waiting: Series, running: Series, kv: Series | undefined): EngineLoad {
  return {
    engine,
    waiting: waiting.sum,
    running: running.sum,
    kvCacheUsage: kv === undefined ? null : Math.min(1, Math.max(0, kv.max)),
  };
}
