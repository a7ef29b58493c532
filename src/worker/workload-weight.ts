// The weight rule lives in the core (src/core/admission-terms.ts); re-exported here for the config tests
// that read it next to the parsed WORKLOAD_WEIGHTS.
export { workloadWeight } from '../core/index.ts';
