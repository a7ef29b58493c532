// Seeded randomness for the policy lab: every draw comes from a stream derived from the scenario's seed and
// a label, so the same scenario yields the same requests under every policy and on every run.
// Never Math.random().

export type Rng = () => number;

/** mulberry32: a tiny 32-bit generator with floats in [0, 1); ample for load generation. */
export function createRng(seed: number): Rng {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 0x1_0000_0000;
  };
}

/** An independent stream per (seed, label): adding a workload does not shift another workload's draws. */
export function deriveRng(seed: number, label: string): Rng {
  // FNV-1a over the UTF-16 code units of "seed:label".
  const text = `${seed}:${label}`;
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return createRng(hash >>> 0);
}

/** A uniform draw in (0, 1]: safe to take the logarithm of. */
function openUniform(rng: Rng): number {
  return 1 - rng();
}

export function exponential(rng: Rng, mean: number): number {
  return -mean * Math.log(openUniform(rng));
}

/** Box–Muller; uses two uniforms per call so the stream position does not depend on earlier calls. */
export function standardNormal(rng: Rng): number {
  const u = openUniform(rng);
  const v = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

export function lognormal(rng: Rng, median: number, sigma: number): number {
  return median * Math.exp(sigma * standardNormal(rng));
}

/** Pareto type I: P(X > x) = (min / x)^alpha for x ≥ min. Infinite variance for alpha ≤ 2. */
export function pareto(rng: Rng, min: number, alpha: number): number {
  return min / Math.pow(openUniform(rng), 1 / alpha);
}

/** Zipf weights for ranks 1..n with exponent s, normalised to sum to 1. */
export function zipfWeights(n: number, s: number): number[] {
  const raw = Array.from({ length: n }, (_, i) => Math.pow(i + 1, -s));
  const total = raw.reduce((a, b) => a + b, 0);
  return raw.map((w) => w / total);
}
