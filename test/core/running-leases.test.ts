// RunningLeases keeps one entry in fields and a Map only for more: it must behave exactly as a Map
// (size, lookups, insertion order of what a workload persists and declares) under any sequence.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RunningLeases } from '../../src/core/protocol/running-leases.ts';

describe('RunningLeases', () => {
  it('answers as a Map does, in the same order, after any sets and deletes', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.constantFrom('a', 'b', 'c', 'd', 'e'), fc.nat(99)), {
          maxLength: 60,
        }),
        (ops) => {
          const leases = new RunningLeases<number>();
          const reference = new Map<string, number>();
          for (const [set, id, value] of ops) {
            if (set) {
              leases.set(id, value);
              reference.set(id, value);
            } else {
              expect(leases.delete(id)).toBe(reference.delete(id));
            }
            expect(leases.size).toBe(reference.size);
            expect([...leases.entries()]).toEqual([...reference.entries()]);
            expect([...leases.values()]).toEqual([...reference.values()]);
            for (const probe of ['a', 'c', 'e']) expect(leases.get(probe)).toBe(reference.get(probe));
          }
        },
      ),
      { seed: 3, numRuns: 500 },
    );
  });
});
