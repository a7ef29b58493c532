// The simulator's options: named defaults and validation. Every bad value fails here, at start, with a
// message naming the field (or the flag, when parsed from the command line); nothing downstream re-checks.

/** The fault modes, changeable at runtime through `SimServer.setFault`. */
export interface SimFaults {
  /** Fraction 0..1 of inference requests answered with HTTP 500 instead of being served. */
  readonly errorRate: number;
  /** Fraction 0..1 of generations that pause mid-stream for `stallMs`. */
  readonly stallRate: number;
  readonly stallMs: number;
  /** Drop every connection and request on arrival, as a crashed or unreachable backend would. */
  readonly refuse: boolean;
}

/** Whose Prometheus metric names /metrics uses. */
export const SIM_ENGINES = ['vllm', 'sglang'] as const;
export type SimEngine = (typeof SIM_ENGINES)[number];

export interface SimOptions extends SimFaults {
  /** 0 asks the OS for an ephemeral port. */
  readonly port: number;
  readonly host: string;
  /** Sent as `x-sim-backend` on every response, so router tests can see who served a request. */
  readonly name: string;
  /** Model ids listed by /v1/models; the first is the `model_name` metrics label. */
  readonly models: readonly string[];
  /** Requests generating at once, like vLLM's `--max-num-seqs`; the rest wait in FIFO order. */
  readonly maxNumSeqs: number;
  /** Waiting-queue bound; a request arriving beyond it is answered 503. */
  readonly maxWaiting: number;
  readonly ttftMs: number;
  readonly itlMs: number;
  /** Completion length when a request sets neither `max_tokens` nor `max_completion_tokens`. */
  readonly defaultMaxTokens: number;
  /** Fraction (0, 1] of the token limit a completion actually uses: ⌈outputFrac × limit⌉, at least 1. */
  readonly outputFrac: number;
  /**
   * When > 0, a completion ends after at most this many tokens whatever its limit (a model whose answers
   * are this long): a client asking for 8× more is served the same answer. 0: no such cap.
   */
  readonly outputTokens: number;
  /** KV-cache capacity in tokens; usage is the running requests' prompt + generated tokens over this. */
  readonly kvCacheTokens: number;
  readonly engine: SimEngine;
  /** vLLM only: KV usage as `vllm:gpu_cache_usage_perc`, the older name vLLM deprecated in 2025. */
  readonly vllmLegacyMetrics: boolean;
  /** Seed of the PRNG behind the fault modes: the same seed gives the same sequence of faults. */
  readonly seed: number;
}

export const DEFAULT_SIM_PORT = 0;
/** Loopback only: the simulator is a test fixture, not something to expose. */
export const DEFAULT_SIM_HOST = '127.0.0.1';
export const DEFAULT_SIM_NAME = 'sim';
export const DEFAULT_SIM_MODEL = 'sim-model';
/** Small on purpose, so a handful of concurrent requests already queues inside the backend. */
export const DEFAULT_MAX_NUM_SEQS = 4;
export const DEFAULT_MAX_WAITING = 1000;
/** Roughly a short prompt's prefill on a mid-size model. */
export const DEFAULT_TTFT_MS = 200;
/** 50 tokens/s per sequence, a typical decode speed. */
export const DEFAULT_ITL_MS = 20;
export const DEFAULT_MAX_TOKENS = 16;
/** Every completion runs to its limit, as before `--output-frac` existed. */
export const DEFAULT_OUTPUT_FRAC = 1;
/** The default KV capacity is this many tokens per slot: room for every slot to hold a 2k context. */
export const DEFAULT_KV_TOKENS_PER_SEQ = 2048;
export const DEFAULT_ENGINE: SimEngine = 'vllm';
export const DEFAULT_SEED = 1;

export const DEFAULT_SIM_OPTIONS: SimOptions = Object.freeze({
  port: DEFAULT_SIM_PORT,
  host: DEFAULT_SIM_HOST,
  name: DEFAULT_SIM_NAME,
  models: Object.freeze([DEFAULT_SIM_MODEL]),
  maxNumSeqs: DEFAULT_MAX_NUM_SEQS,
  maxWaiting: DEFAULT_MAX_WAITING,
  ttftMs: DEFAULT_TTFT_MS,
  itlMs: DEFAULT_ITL_MS,
  defaultMaxTokens: DEFAULT_MAX_TOKENS,
  outputFrac: DEFAULT_OUTPUT_FRAC,
  outputTokens: 0,
  kvCacheTokens: DEFAULT_MAX_NUM_SEQS * DEFAULT_KV_TOKENS_PER_SEQ,
  engine: DEFAULT_ENGINE,
  vllmLegacyMetrics: false,
  errorRate: 0,
  stallMs: 0,
  stallRate: 0,
  refuse: false,
  seed: DEFAULT_SEED,
});

export type NumericKey = {
  [K in keyof SimOptions]: SimOptions[K] extends number ? K : never;
}[keyof SimOptions];

export interface NumericSpec {
  readonly flag: string;
  readonly integer: boolean;
  readonly min: number;
  /** The value must be strictly greater than `min`. */
  readonly exclusiveMin?: boolean;
  readonly max: number;
}

const UNBOUNDED = Number.MAX_SAFE_INTEGER;

/** Checked in this order, so `maxNumSeqs` is reported before the `kvCacheTokens` derived from it. */
export const NUMERIC_SPECS: Readonly<Record<NumericKey, NumericSpec>> = {
  port: { flag: '--port', integer: true, min: 0, max: 65_535 },
  maxNumSeqs: { flag: '--max-num-seqs', integer: true, min: 1, max: UNBOUNDED },
  maxWaiting: { flag: '--max-waiting', integer: true, min: 0, max: UNBOUNDED },
  ttftMs: { flag: '--ttft-ms', integer: false, min: 0, max: UNBOUNDED },
  itlMs: { flag: '--itl-ms', integer: false, min: 0, max: UNBOUNDED },
  defaultMaxTokens: { flag: '--default-max-tokens', integer: true, min: 1, max: UNBOUNDED },
  outputFrac: { flag: '--output-frac', integer: false, min: 0, exclusiveMin: true, max: 1 },
  outputTokens: { flag: '--output-tokens', integer: true, min: 0, max: UNBOUNDED },
  kvCacheTokens: { flag: '--kv-cache-tokens', integer: true, min: 1, max: UNBOUNDED },
  errorRate: { flag: '--error-rate', integer: false, min: 0, max: 1 },
  stallMs: { flag: '--stall-ms', integer: false, min: 0, max: UNBOUNDED },
  stallRate: { flag: '--stall-rate', integer: false, min: 0, max: 1 },
  seed: { flag: '--seed', integer: true, min: 0, max: 0xffff_ffff },
};

export const NUMERIC_KEYS = Object.keys(NUMERIC_SPECS) as NumericKey[];

/** Backend names travel in an HTTP header and in log lines: printable ASCII, no spaces. */
const NAME_PATTERN = /^[A-Za-z0-9._:-]+$/;

function describeRange(spec: NumericSpec): string {
  const kind = spec.integer ? 'an integer' : 'a number';
  if (spec.exclusiveMin === true) return `${kind} > ${spec.min} and <= ${spec.max}`;
  if (spec.max === UNBOUNDED) return `${kind} >= ${spec.min}`;
  return `${kind} in ${spec.min}..${spec.max}`;
}

function checkNumber(label: string, spec: NumericSpec, value: unknown): number {
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (!spec.integer || Number.isInteger(value)) &&
    (spec.exclusiveMin === true ? value > spec.min : value >= spec.min) &&
    value <= spec.max;
  if (!ok) throw new TypeError(`${label} must be ${describeRange(spec)}, got ${JSON.stringify(value)}`);
  return value;
}

function checkBoolean(label: string, value: unknown): boolean {
  if (typeof value !== 'boolean')
    throw new TypeError(`${label} must be a boolean, got ${JSON.stringify(value)}`);
  return value;
}

/** Applies a runtime fault change over `current`, validating the changed fields. */
export function mergeFaults(current: SimFaults, partial: Partial<SimFaults>): SimFaults {
  const merged = resolveSimOptions({
    errorRate: partial.errorRate ?? current.errorRate,
    stallRate: partial.stallRate ?? current.stallRate,
    stallMs: partial.stallMs ?? current.stallMs,
    refuse: partial.refuse ?? current.refuse,
  });
  return Object.freeze({
    errorRate: merged.errorRate,
    stallRate: merged.stallRate,
    stallMs: merged.stallMs,
    refuse: merged.refuse,
  });
}

/**
 * Merges `partial` over the defaults, validates every field, and freezes the result. An unset
 * `kvCacheTokens` follows `maxNumSeqs` (× DEFAULT_KV_TOKENS_PER_SEQ) rather than the default slot count.
 */
export function resolveSimOptions(
  partial: Partial<SimOptions>,
  label: 'flag' | 'field' = 'field',
): SimOptions {
  const merged: { -readonly [K in keyof SimOptions]: SimOptions[K] } = { ...DEFAULT_SIM_OPTIONS };
  for (const [key, value] of Object.entries(partial)) {
    if (value !== undefined) Object.assign(merged, { [key]: value });
  }
  if (partial.kvCacheTokens === undefined)
    merged.kvCacheTokens = merged.maxNumSeqs * DEFAULT_KV_TOKENS_PER_SEQ;
  const nameOf = (key: keyof SimOptions, flag: string): string => (label === 'flag' ? flag : key);

  for (const key of NUMERIC_KEYS) {
    const spec = NUMERIC_SPECS[key];
    merged[key] = checkNumber(nameOf(key, spec.flag), spec, merged[key]);
  }
  if (typeof merged.host !== 'string' || merged.host === '') {
    throw new TypeError(
      `${nameOf('host', '--host')} must be a non-empty string, got ${JSON.stringify(merged.host)}`,
    );
  }
  if (typeof merged.name !== 'string' || !NAME_PATTERN.test(merged.name)) {
    throw new TypeError(
      `${nameOf('name', '--name')} must match ${NAME_PATTERN.source}, got ${JSON.stringify(merged.name)}`,
    );
  }
  const models: unknown = merged.models;
  if (
    !Array.isArray(models) ||
    models.length === 0 ||
    !models.every((m: unknown) => typeof m === 'string' && m.trim() !== '')
  ) {
    throw new TypeError(
      `${nameOf('models', '--model')} must be one or more non-empty model ids, got ${JSON.stringify(models)}`,
    );
  }
  if (!(SIM_ENGINES as readonly unknown[]).includes(merged.engine)) {
    throw new TypeError(
      `${nameOf('engine', '--engine')} must be one of ${SIM_ENGINES.join(', ')}, got ${JSON.stringify(merged.engine)}`,
    );
  }
  checkBoolean(nameOf('refuse', '--refuse'), merged.refuse);
  const legacy = nameOf('vllmLegacyMetrics', '--vllm-legacy-metrics');
  if (checkBoolean(legacy, merged.vllmLegacyMetrics) && merged.engine !== 'vllm') {
    throw new TypeError(
      `${legacy} applies to ${nameOf('engine', '--engine')} vllm only, got ${merged.engine}`,
    );
  }
  merged.models = Object.freeze([...(models as string[])]);
  return Object.freeze(merged);
}
