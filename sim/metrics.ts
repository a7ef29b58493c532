// Prometheus text exposition of the simulator's state, under vLLM's metric names so a scraper written
// for vLLM reads the simulator unchanged.

/** How an inference request ended; a low-cardinality label of `sluice_sim_requests_total`. */
export type SimOutcome = 'completed' | 'cancelled' | 'faulted' | 'rejected';

export const SIM_OUTCOMES: readonly SimOutcome[] = ['completed', 'cancelled', 'faulted', 'rejected'];

export interface MetricsSnapshot {
  readonly modelName: string;
  readonly running: number;
  readonly waiting: number;
  readonly maxNumSeqs: number;
  readonly outcomes: Readonly<Record<SimOutcome, number>>;
  readonly promptTokens: number;
  readonly generationTokens: number;
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

export function renderMetrics(snapshot: MetricsSnapshot): string {
  const model = `model_name="${escapeLabel(snapshot.modelName)}"`;
  const family = (name: string, type: 'gauge' | 'counter', help: string, samples: string[]): string =>
    [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...samples].join('\n');
  return (
    [
      family('vllm:num_requests_running', 'gauge', 'Number of requests in model execution batches.', [
        `vllm:num_requests_running{${model}} ${snapshot.running}`,
      ]),
      family('vllm:num_requests_waiting', 'gauge', 'Number of requests waiting to be processed.', [
        `vllm:num_requests_waiting{${model}} ${snapshot.waiting}`,
      ]),
      // The simulator has no KV cache; running/max-num-seqs is the occupancy a router would infer from it.
      family('vllm:kv_cache_usage_perc', 'gauge', 'KV-cache usage. 1 means 100 percent usage.', [
        `vllm:kv_cache_usage_perc{${model}} ${snapshot.running / snapshot.maxNumSeqs}`,
      ]),
      family('vllm:prompt_tokens_total', 'counter', 'Number of prefill tokens processed.', [
        `vllm:prompt_tokens_total{${model}} ${snapshot.promptTokens}`,
      ]),
      family('vllm:generation_tokens_total', 'counter', 'Number of generation tokens processed.', [
        `vllm:generation_tokens_total{${model}} ${snapshot.generationTokens}`,
      ]),
      family(
        'sluice_sim_requests_total',
        'counter',
        'Inference requests finished by the simulator, by outcome.',
        SIM_OUTCOMES.map(
          (outcome) =>
            `sluice_sim_requests_total{${model},outcome="${outcome}"} ${snapshot.outcomes[outcome]}`,
        ),
      ),
    ].join('\n') + '\n'
  );
}
