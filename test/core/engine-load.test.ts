// Engine load from /metrics bodies written from the engines' documented metric names and labels: vLLM v0
// (gpu_cache_usage_perc), vLLM v1 with two data-parallel engines (kv_cache_usage_perc), SGLang, a page
// from neither, and garbage around the lines that matter.

import { describe, expect, it } from 'vitest';
import {
  ENGINE_LOAD_METRIC_NAMES,
  readEngineLoad,
  SGLANG_METRICS,
  VLLM_METRICS,
} from '../../src/core/engine-load.ts';
import { parsePrometheusText } from '../../src/core/prometheus-text.ts';

const loadOf = (body: string) => readEngineLoad(parsePrometheusText(body).samples);

/** vLLM 0.6-style (v0 engine): model_name only, GPU cache usage under its old name, swapped requests. */
const VLLM_V0 = `# HELP vllm:cache_config_info Information of the LLMEngine CacheConfig
# TYPE vllm:cache_config_info gauge
vllm:cache_config_info{block_size="16",cache_dtype="auto",enable_prefix_caching="False",gpu_memory_utilization="0.9",num_cpu_blocks="2048",num_gpu_blocks="7299",sliding_window="None",swap_space_bytes="4294967296"} 1.0
# HELP vllm:num_requests_running Number of requests currently running on GPU.
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{model_name="meta-llama/Llama-3.1-8B-Instruct"} 12.0
# HELP vllm:num_requests_swapped Number of requests swapped to CPU.
# TYPE vllm:num_requests_swapped gauge
vllm:num_requests_swapped{model_name="meta-llama/Llama-3.1-8B-Instruct"} 0.0
# HELP vllm:num_requests_waiting Number of requests waiting to be processed.
# TYPE vllm:num_requests_waiting gauge
vllm:num_requests_waiting{model_name="meta-llama/Llama-3.1-8B-Instruct"} 3.0
# HELP vllm:gpu_cache_usage_perc GPU KV-cache usage. 1 means 100 percent usage.
# TYPE vllm:gpu_cache_usage_perc gauge
vllm:gpu_cache_usage_perc{model_name="meta-llama/Llama-3.1-8B-Instruct"} 0.4217
# HELP vllm:cpu_cache_usage_perc CPU KV-cache usage. 1 means 100 percent usage.
# TYPE vllm:cpu_cache_usage_perc gauge
vllm:cpu_cache_usage_perc{model_name="meta-llama/Llama-3.1-8B-Instruct"} 0.0
# HELP vllm:time_to_first_token_seconds Histogram of time to first token in seconds.
# TYPE vllm:time_to_first_token_seconds histogram
vllm:time_to_first_token_seconds_sum{model_name="meta-llama/Llama-3.1-8B-Instruct"} 31.5
vllm:time_to_first_token_seconds_bucket{le="0.001",model_name="meta-llama/Llama-3.1-8B-Instruct"} 0.0
vllm:time_to_first_token_seconds_bucket{le="+Inf",model_name="meta-llama/Llama-3.1-8B-Instruct"} 212.0
vllm:time_to_first_token_seconds_count{model_name="meta-llama/Llama-3.1-8B-Instruct"} 212.0
`;

/** vLLM v1 with --data-parallel-size 2: one series per engine core, labelled `engine`. */
const VLLM_V1_TWO_ENGINES = `# HELP vllm:num_requests_running Number of requests in model execution batches.
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{engine="0",model_name="Qwen/Qwen3-8B"} 10.0
vllm:num_requests_running{engine="1",model_name="Qwen/Qwen3-8B"} 12.0
# HELP vllm:num_requests_waiting Number of requests waiting to be processed.
# TYPE vllm:num_requests_waiting gauge
vllm:num_requests_waiting{engine="0",model_name="Qwen/Qwen3-8B"} 1.0
vllm:num_requests_waiting{engine="1",model_name="Qwen/Qwen3-8B"} 4.0
# HELP vllm:kv_cache_usage_perc KV-cache usage. 1 means 100 percent usage.
# TYPE vllm:kv_cache_usage_perc gauge
vllm:kv_cache_usage_perc{engine="0",model_name="Qwen/Qwen3-8B"} 0.52
vllm:kv_cache_usage_perc{engine="1",model_name="Qwen/Qwen3-8B"} 0.91
# HELP vllm:prefix_cache_queries_total Prefix cache queries, in terms of number of queried tokens.
# TYPE vllm:prefix_cache_queries_total counter
vllm:prefix_cache_queries_total{engine="0",model_name="Qwen/Qwen3-8B"} 183264.0
vllm:prefix_cache_queries_total{engine="1",model_name="Qwen/Qwen3-8B"} 179040.0
# HELP vllm:e2e_request_latency_seconds Histogram of e2e request latency in seconds.
# TYPE vllm:e2e_request_latency_seconds histogram
vllm:e2e_request_latency_seconds_bucket{engine="0",le="0.3",model_name="Qwen/Qwen3-8B"} 0.0
vllm:e2e_request_latency_seconds_bucket{engine="0",le="+Inf",model_name="Qwen/Qwen3-8B"} 96.0
`;

/** SGLang with --enable-metrics and --dp 2 with DP attention: one series per DP rank. */
const SGLANG = `# HELP sglang:num_running_reqs The number of running requests.
# TYPE sglang:num_running_reqs gauge
sglang:num_running_reqs{dp_rank="0",engine_type="unified",model_name="meta-llama/Llama-3.1-8B-Instruct",pp_rank="0",tp_rank="0"} 28.0
sglang:num_running_reqs{dp_rank="1",engine_type="unified",model_name="meta-llama/Llama-3.1-8B-Instruct",pp_rank="0",tp_rank="0"} 30.0
# HELP sglang:token_usage The token usage.
# TYPE sglang:token_usage gauge
sglang:token_usage{dp_rank="0",engine_type="unified",model_name="meta-llama/Llama-3.1-8B-Instruct",pp_rank="0",tp_rank="0"} 0.28
sglang:token_usage{dp_rank="1",engine_type="unified",model_name="meta-llama/Llama-3.1-8B-Instruct",pp_rank="0",tp_rank="0"} 0.35
# HELP sglang:num_queue_reqs The number of requests in the waiting queue.
# TYPE sglang:num_queue_reqs gauge
sglang:num_queue_reqs{dp_rank="0",engine_type="unified",model_name="meta-llama/Llama-3.1-8B-Instruct",pp_rank="0",tp_rank="0"} 2.0
sglang:num_queue_reqs{dp_rank="1",engine_type="unified",model_name="meta-llama/Llama-3.1-8B-Instruct",pp_rank="0",tp_rank="0"} 0.0
# HELP sglang:cache_hit_rate The prefix cache hit rate.
# TYPE sglang:cache_hit_rate gauge
sglang:cache_hit_rate{dp_rank="0",engine_type="unified",model_name="meta-llama/Llama-3.1-8B-Instruct",pp_rank="0",tp_rank="0"} 0.007507552643049313
# HELP sglang:time_to_first_token_seconds Histogram of time to first token in seconds.
# TYPE sglang:time_to_first_token_seconds histogram
sglang:time_to_first_token_seconds_sum{dp_rank="0",engine_type="unified",model_name="meta-llama/Llama-3.1-8B-Instruct",pp_rank="0",tp_rank="0"} 2.3518979474117756e+06
sglang:time_to_first_token_seconds_bucket{dp_rank="0",engine_type="unified",le="0.001",model_name="meta-llama/Llama-3.1-8B-Instruct",pp_rank="0",tp_rank="0"} 0.0
`;

/** Hugging Face TGI: an inference server whose metrics this module does not read. */
const TGI = `# TYPE tgi_queue_size gauge
tgi_queue_size 3
# TYPE tgi_batch_current_size gauge
tgi_batch_current_size 8
# TYPE tgi_request_duration histogram
tgi_request_duration_bucket{le="0.5"} 10
`;

describe('readEngineLoad', () => {
  it('vLLM v0: waiting and running, KV usage from gpu_cache_usage_perc', () => {
    expect(loadOf(VLLM_V0)).toEqual({ engine: 'vllm', waiting: 3, running: 12, kvCacheUsage: 0.4217 });
  });

  it('vLLM v1, two engines: waiting and running summed, KV usage the fuller engine’s', () => {
    expect(loadOf(VLLM_V1_TWO_ENGINES)).toEqual({
      engine: 'vllm',
      waiting: 5,
      running: 22,
      kvCacheUsage: 0.91,
    });
  });

  it('vLLM publishing both KV names: kv_cache_usage_perc wins', () => {
    const body = `${VLLM_V1_TWO_ENGINES}vllm:gpu_cache_usage_perc{engine="0",model_name="Qwen/Qwen3-8B"} 0.1\n`;
    expect(loadOf(body)?.kvCacheUsage).toBe(0.91);
  });

  it('vLLM without any KV gauge: kvCacheUsage is null', () => {
    const body = 'vllm:num_requests_waiting{model_name="m"} 0\nvllm:num_requests_running{model_name="m"} 1\n';
    expect(loadOf(body)).toEqual({ engine: 'vllm', waiting: 0, running: 1, kvCacheUsage: null });
  });

  it('SGLang: queue and running summed over DP ranks, token_usage the maximum', () => {
    expect(loadOf(SGLANG)).toEqual({ engine: 'sglang', waiting: 2, running: 58, kvCacheUsage: 0.35 });
  });

  it('null for a page from neither engine, an empty page, or only one of the two gauges', () => {
    expect(loadOf(TGI)).toBeNull();
    expect(loadOf('')).toBeNull();
    expect(loadOf('vllm:num_requests_waiting{model_name="m"} 3\nvllm:kv_cache_usage_perc 0.5\n')).toBeNull();
    expect(loadOf('sglang:num_running_reqs 3\nsglang:token_usage 0.5\n')).toBeNull();
  });

  it('reads through garbage lines around the metrics', () => {
    const body = [
      '<html>502 Bad Gateway</html>',
      'vllm:num_requests_waiting{model_name="m"} 2',
      'vllm:num_requests_waiting{model_name="m" 99',
      '{"error": "oops"}',
      'vllm:num_requests_running{model_name="m"} 4 1700000000000',
      'vllm:kv_cache_usage_perc{model_name="m"} not-a-number',
    ].join('\n');
    const parsed = parsePrometheusText(body);
    expect(parsed.skippedLines).toBe(4);
    expect(readEngineLoad(parsed.samples)).toEqual({
      engine: 'vllm',
      waiting: 2,
      running: 4,
      kvCacheUsage: null,
    });
  });

  it('ignores non-finite samples; a metric with no finite sample counts as absent', () => {
    const body = [
      'vllm:num_requests_waiting{engine="0"} 2',
      'vllm:num_requests_waiting{engine="1"} NaN',
      'vllm:num_requests_running{engine="0"} +Inf',
      'vllm:num_requests_running{engine="1"} 3',
      'vllm:kv_cache_usage_perc{engine="0"} NaN',
      'vllm:kv_cache_usage_perc{engine="1"} 0.4',
    ].join('\n');
    expect(loadOf(body)).toEqual({ engine: 'vllm', waiting: 2, running: 3, kvCacheUsage: 0.4 });
    expect(loadOf('vllm:num_requests_waiting NaN\nvllm:num_requests_running 1\n')).toBeNull();
    expect(
      loadOf('vllm:num_requests_waiting 0\nvllm:num_requests_running 1\nvllm:kv_cache_usage_perc NaN\n'),
    ).toEqual({ engine: 'vllm', waiting: 0, running: 1, kvCacheUsage: null });
  });

  it('clamps KV usage to [0, 1] and negative counts to 0', () => {
    const base =
      'sglang:num_queue_reqs{dp_rank="0"} -2\nsglang:num_queue_reqs{dp_rank="1"} 1\nsglang:num_running_reqs 0\n';
    expect(loadOf(`${base}sglang:token_usage 1.3\n`)).toEqual({
      engine: 'sglang',
      waiting: 1,
      running: 0,
      kvCacheUsage: 1,
    });
    expect(loadOf(`${base}sglang:token_usage -0.1\n`)?.kvCacheUsage).toBe(0);
  });

  it('prefers vLLM when a page carries both engines’ gauges', () => {
    expect(loadOf(`${SGLANG}${VLLM_V0}`)?.engine).toBe('vllm');
  });

  it('ENGINE_LOAD_METRIC_NAMES as `only` gives the same load and skips the rest', () => {
    for (const body of [VLLM_V0, VLLM_V1_TWO_ENGINES, SGLANG, TGI]) {
      const filtered = parsePrometheusText(body, { only: ENGINE_LOAD_METRIC_NAMES });
      expect(readEngineLoad(filtered.samples)).toEqual(loadOf(body));
      expect(filtered.samples.every((s) => ENGINE_LOAD_METRIC_NAMES.has(s.name))).toBe(true);
    }
    expect([...ENGINE_LOAD_METRIC_NAMES].sort()).toEqual(
      [...Object.values(VLLM_METRICS), ...Object.values(SGLANG_METRICS)].sort(),
    );
  });
});
