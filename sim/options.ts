// The simulator's options: named defaults, validation, and the CLI flag parser.
// Every bad value fails here, at start, with a message naming the flag; nothing downstream re-checks.

import { parseArgs } from 'node:util';

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
  errorRate: 0,
  stallMs: 0,
  stallRate: 0,
  refuse: false,
  seed: DEFAULT_SEED,
});

type NumericKey = {
  [K in keyof SimOptions]: SimOptions[K] extends number ? K : never;
}[keyof SimOptions];

interface NumericSpec {
  readonly flag: string;
  readonly integer: boolean;
  readonly min: number;
  readonly max: number;
}

const NUMERIC_SPECS: Readonly<Record<NumericKey, NumericSpec>> = {
  port: { flag: '--port', integer: true, min: 0, max: 65_535 },
  maxNumSeqs: { flag: '--max-num-seqs', integer: true, min: 1, max: Number.MAX_SAFE_INTEGER },
  maxWaiting: { flag: '--max-waiting', integer: true, min: 0, max: Number.MAX_SAFE_INTEGER },
  ttftMs: { flag: '--ttft-ms', integer: false, min: 0, max: Number.MAX_SAFE_INTEGER },
  itlMs: { flag: '--itl-ms', integer: false, min: 0, max: Number.MAX_SAFE_INTEGER },
  defaultMaxTokens: { flag: '--default-max-tokens', integer: true, min: 1, max: Number.MAX_SAFE_INTEGER },
  errorRate: { flag: '--error-rate', integer: false, min: 0, max: 1 },
  stallMs: { flag: '--stall-ms', integer: false, min: 0, max: Number.MAX_SAFE_INTEGER },
  stallRate: { flag: '--stall-rate', integer: false, min: 0, max: 1 },
  seed: { flag: '--seed', integer: true, min: 0, max: 0xffff_ffff },
};

const NUMERIC_KEYS = Object.keys(NUMERIC_SPECS) as NumericKey[];

/** Backend names travel in an HTTP header and in log lines: printable ASCII, no spaces. */
const NAME_PATTERN = /^[A-Za-z0-9._:-]+$/;

function describeRange(spec: NumericSpec): string {
  const kind = spec.integer ? 'an integer' : 'a number';
  if (spec.max === Number.MAX_SAFE_INTEGER) return `${kind} >= ${spec.min}`;
  return `${kind} in ${spec.min}..${spec.max}`;
}

function checkNumber(label: string, spec: NumericSpec, value: unknown): number {
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (!spec.integer || Number.isInteger(value)) &&
    value >= spec.min &&
    value <= spec.max;
  if (!ok) throw new TypeError(`${label} must be ${describeRange(spec)}, got ${JSON.stringify(value)}`);
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

/** Merges `partial` over the defaults, validates every field, and freezes the result. */
export function resolveSimOptions(
  partial: Partial<SimOptions>,
  label: 'flag' | 'field' = 'field',
): SimOptions {
  const merged: { -readonly [K in keyof SimOptions]: SimOptions[K] } = { ...DEFAULT_SIM_OPTIONS };
  for (const [key, value] of Object.entries(partial)) {
    if (value !== undefined) Object.assign(merged, { [key]: value });
  }
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
  if (typeof merged.refuse !== 'boolean') {
    throw new TypeError(
      `${nameOf('refuse', '--refuse')} must be a boolean, got ${JSON.stringify(merged.refuse)}`,
    );
  }
  merged.models = Object.freeze([...(models as string[])]);
  return Object.freeze(merged);
}

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
  const { host, name, model, refuse } = parsed.values;
  if (typeof host === 'string') partial.host = host;
  if (typeof name === 'string') partial.name = name;
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
  --max-num-seqs N         requests generating at once (default ${DEFAULT_MAX_NUM_SEQS})
  --max-waiting N          waiting-queue bound, 503 beyond it (default ${DEFAULT_MAX_WAITING})
  --ttft-ms MS             time to first token (default ${DEFAULT_TTFT_MS})
  --itl-ms MS              inter-token latency (default ${DEFAULT_ITL_MS})
  --default-max-tokens N   completion length when the request sets none (default ${DEFAULT_MAX_TOKENS})
  --error-rate F           fraction 0..1 of requests answered 500 (default 0)
  --stall-ms MS            length of a mid-stream stall (default 0)
  --stall-rate F           fraction 0..1 of requests that stall (default 0)
  --refuse                 drop every connection on arrival (default off)
  --seed N                 seed of the fault PRNG (default ${DEFAULT_SEED})`;
