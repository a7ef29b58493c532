// WORKLOAD_WEIGHTS: accepted weights reach the route's lookup; a bad one is named (parseConfig is pure).

import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/worker/config.ts';
import { workloadWeight } from '../../src/core/index.ts';

const BACKENDS = JSON.stringify([{ name: 'a', url: 'http://a.test', maxConcurrency: 1 }]);

function parse(weights: unknown) {
  return parseConfig({ BACKENDS, AUTH: 'off', WORKLOAD_WEIGHTS: weights });
}

function messageOf(weights: unknown): string {
  const result = parse(weights);
  if (result.ok) throw new Error('expected an invalid configuration');
  return result.message;
}

describe('WORKLOAD_WEIGHTS', () => {
  it('gives listed workloads their weight and leaves the rest to the default', () => {
    const result = parse('{"team-a": 2, "team-b": 0.5}');
    if (!result.ok) throw new Error(result.message);
    expect(workloadWeight(result.config, 'team-a')).toBe(2);
    expect(workloadWeight(result.config, 'team-b')).toBe(0.5);
    expect(workloadWeight(result.config, 'other')).toBeUndefined();
    // Not an own key: inherited names are not weights.
    expect(workloadWeight(result.config, 'constructor')).toBeUndefined();
  });

  it("takes an API key's weight ahead of the configured one", () => {
    const result = parse('{"team-a": 2}');
    if (!result.ok) throw new Error(result.message);
    expect(workloadWeight(result.config, 'team-a', 4)).toBe(4);
    expect(workloadWeight(result.config, 'other', 0.5)).toBe(0.5);
    expect(workloadWeight(result.config, 'team-a', null)).toBe(2);
  });

  it('is optional, and defaults to token fairness', () => {
    const result = parseConfig({ BACKENDS, AUTH: 'off' });
    if (!result.ok) throw new Error(result.message);
    expect(result.config.workloadWeights).toEqual({});
    expect(result.config.policyParams.fairness).toBe('tokens');
  });

  it.each([
    [0, 'WORKLOAD_WEIGHTS.t must be a number from 0.001 to 1000, got 0'],
    [-1, 'WORKLOAD_WEIGHTS.t must be a number from 0.001 to 1000, got -1'],
    [1e9, 'WORKLOAD_WEIGHTS.t must be a number from 0.001 to 1000, got 1000000000'],
    ['2', 'WORKLOAD_WEIGHTS.t must be a number from 0.001 to 1000, got "2"'],
    [null, 'WORKLOAD_WEIGHTS.t must be a number from 0.001 to 1000, got null'],
  ])('rejects weight %j, naming the workload', (weight, message) => {
    expect(messageOf(JSON.stringify({ t: weight }))).toBe(`Invalid configuration: ${message}`);
  });

  it('rejects a weight that is not a number at all (NaN cannot be written in JSON; a TOML table can hold one)', () => {
    expect(messageOf({ t: Number.NaN })).toContain('WORKLOAD_WEIGHTS.t must be a number');
  });

  it('rejects malformed JSON, a non-object and an unusable workload ID', () => {
    expect(messageOf('{')).toContain('WORKLOAD_WEIGHTS is not valid JSON');
    expect(messageOf('[1]')).toContain('WORKLOAD_WEIGHTS must be an object');
    expect(messageOf('{" padded ": 1}')).toContain('WORKLOAD_WEIGHTS. padded  must be a workload ID');
    expect(messageOf(JSON.stringify({ ['x'.repeat(129)]: 1 }))).toContain('must be a workload ID');
  });

  it('rejects a workload ID with a control character, as the header does (it could never match)', () => {
    expect(messageOf(JSON.stringify({ 'a\tb': 1 }))).toContain('must be a workload ID');
  });
});
