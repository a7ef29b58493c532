// Which limits and weight a request is admitted under: configuration, overridden by its API key.

import { describe, expect, it } from 'vitest';
import { admissionTerms } from '../../src/core/index.ts';

const config = {
  workloadLimits: { fraud: { maxInFlight: 4, requestsPerMinute: 600 } },
  workloadWeights: { fraud: 2 },
};

describe('admissionTerms', () => {
  it('sends the configured limits and weight for a keyless request', () => {
    expect(admissionTerms(config, 'fraud', null)).toEqual({
      limits: { maxInFlight: 4, requestsPerMinute: 600 },
      weight: 2,
    });
  });

  it("overrides the configured limits field by field with the key's, and takes the key's weight", () => {
    expect(admissionTerms(config, 'fraud', { limits: { maxInFlight: 1 }, weight: 4 })).toEqual({
      limits: { maxInFlight: 1, requestsPerMinute: 600 },
      weight: 4,
    });
  });

  it('sends no fields at all when nothing is configured and no key applies', () => {
    expect(admissionTerms(config, 'chat', null)).toEqual({});
    // A key without limits or weight still sends its (empty) limits: the workload's follow its latest key.
    expect(admissionTerms(config, 'chat', { limits: {}, weight: null })).toEqual({ limits: {} });
  });

  it('reads only own entries: a workload named constructor inherits nothing', () => {
    expect(admissionTerms(config, 'constructor', null)).toEqual({});
  });
});
