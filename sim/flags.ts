// The command line of `npm run backend`: flags in, validated SimOptions out (validation itself lives in
// options.ts), plus the usage text. A bad flag throws a TypeError naming it.

import { parseArgs } from 'node:util';
import {
  DEFAULT_ENGINE,
  DEFAULT_KV_TOKENS_PER_SEQ,
  DEFAULT_MAX_NUM_SEQS,
  DEFAULT_MAX_TOKENS,
  DEFAULT_MAX_WAITING,
  DEFAULT_OUTPUT_FRAC,
  DEFAULT_SEED,
  DEFAULT_SIM_HOST,
  DEFAULT_SIM_MODEL,
  DEFAULT_SIM_NAME,
  DEFAULT_SIM_PORT,
  DEFAULT_ITL_MS,
  DEFAULT_TTFT_MS,
  NUMERIC_KEYS,
  NUMERIC_SPECS,
  resolveSimOptions,
  SIM_ENGINES,
  type NumericKey,
  type SimEngine,
  type SimOptions,
} from './options.ts';

const FLAG_TO_KEY: Readonly<Record<string, NumericKey>> = Object.fromEntries(
  NUMERIC_KEYS.map((key) => [NUMERIC_SPECS[key].flag.slice(2), key]),
);

/** Strict: `Number('')` is 0 and `parseFloat('3x')` is 3, both of which would hide a typo. */
function parseNumberFlag(flag: string, raw: string): number {
  const trimmed = raw.trim();
  const value = trimmed === '' ? Number.NaN : Number(trimmed);
  if (Number.isNaN(value)) throw new TypeError(`--${flag} must be a number, got ${JSON.stringify(raw)}`);
  return value;
}

/**
 * Parses CLI flags (`process.argv.slice(2)`) into validated options.
 * Throws a TypeError naming the flag on an unknown flag, a missing value or a value out of range.
 */
export function parseSimArgs(argv: readonly string[]): SimOptions {
  const numericFlags = Object.fromEntries(
    Object.keys(FLAG_TO_KEY).map((flag) => [flag, { type: 'string' as const }]),
  );
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        ...numericFlags,
        host: { type: 'string' },
        name: { type: 'string' },
        model: { type: 'string', multiple: true },
        engine: { type: 'string' },
        'vllm-legacy-metrics': { type: 'boolean' },
        refuse: { type: 'boolean' },
      },
    });
  } catch (error) {
    throw new TypeError(error instanceof Error ? error.message : String(error), { cause: error });
  }

  const partial: { -readonly [K in keyof SimOptions]?: SimOptions[K] } = {};
  for (const [flag, raw] of Object.entries(parsed.values)) {
    const key = FLAG_TO_KEY[flag];
    if (key !== undefined && typeof raw === 'string') partial[key] = parseNumberFlag(flag, raw);
  }
  const { host, name, model, engine, refuse } = parsed.values;
  const legacy = parsed.values['vllm-legacy-metrics'];
  if (typeof host === 'string') partial.host = host;
  if (typeof name === 'string') partial.name = name;
  // resolveSimOptions rejects anything outside SIM_ENGINES, naming the flag.
  if (typeof engine === 'string') partial.engine = engine as SimEngine;
  if (typeof legacy === 'boolean') partial.vllmLegacyMetrics = legacy;
  if (typeof refuse === 'boolean') partial.refuse = refuse;
  if (Array.isArray(model)) {
    // `--model a,b` and `--model a --model b` both serve two models.
    partial.models = model.flatMap((m) => String(m).split(',')).map((m) => m.trim());
  }
  return resolveSimOptions(partial, 'flag');
}

export const SIM_USAGE = `usage: npm run backend -- [flags]
  --port N                 listen port, 0 = ephemeral (default ${DEFAULT_SIM_PORT})
  --host H                 listen address (default ${DEFAULT_SIM_HOST})
  --name S                 backend name, sent as x-sim-backend (default ${DEFAULT_SIM_NAME})
  --model ID[,ID]          model id(s) served; repeatable (default ${DEFAULT_SIM_MODEL})
  --engine E               metric names of ${SIM_ENGINES.join(' or ')} on /metrics (default ${DEFAULT_ENGINE})
  --vllm-legacy-metrics    vllm:gpu_cache_usage_perc instead of vllm:kv_cache_usage_perc (default off)
  --max-num-seqs N         requests generating at once (default ${DEFAULT_MAX_NUM_SEQS})
  --max-waiting N          waiting-queue bound, 503 beyond it (default ${DEFAULT_MAX_WAITING})
  --kv-cache-tokens N      KV-cache capacity in tokens (default max-num-seqs x ${DEFAULT_KV_TOKENS_PER_SEQ})
  --ttft-ms MS             time to first token (default ${DEFAULT_TTFT_MS})
  --itl-ms MS              inter-token latency (default ${DEFAULT_ITL_MS})
  --default-max-tokens N   completion length when the request sets none (default ${DEFAULT_MAX_TOKENS})
  --output-frac F          completions use ceil(F x limit) tokens, 0 < F <= 1 (default ${DEFAULT_OUTPUT_FRAC})
  --output-tokens N        completions end after at most N tokens whatever the limit; 0: off (default 0)
  --error-rate F           fraction 0..1 of requests answered 500 (default 0)
  --stall-ms MS            length of a mid-stream stall (default 0)
  --stall-rate F           fraction 0..1 of requests that stall (default 0)
  --refuse                 drop every connection on arrival (default off)
  --seed N                 seed of the fault PRNG (default ${DEFAULT_SEED})`;
