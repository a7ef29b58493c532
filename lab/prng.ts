// Seeded randomness for the policy lab: every draw comes from a stream derived from the scenario's seed and
// a label, so the same scenario yields the same requests under every policy and on every run.
// Never Math.random().

import { createPrng, hashString } from '../sim/prng.ts';

export type Rng = () => number;

/** The simulator's mulberry32 generator: floats in [0, 1), ample for load generation. */
export const createRng: (seed: number) => Rng = createPrng;

/** An independent stream per (seed, label): adding a workload does not shift another workload's draws. */
export function deriveRng(seed: number, label: string): Rng {
  return createRng(hashString(`${seed}:${label}`));
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
