// Settings derived from an options object once, however many objects are made with it: a process (the
// in-process scheduler, the lab) holds tens of thousands of workload states and hosts made with the same
// options, and a copy of the derived settings in each is memory for nothing (and, for a host not touched
// for thousands of requests, a cache miss on every read).

/** `derive`, remembered per options object (weakly: options no longer used are collected). */
export function derivedOnce<O extends object, V>(derive: (opts: O) => V): (opts: O) => V {
  const derived = new WeakMap<O, V>();
  return (opts) => {
    let value = derived.get(opts);
    if (value === undefined) {
      value = derive(opts);
      derived.set(opts, value);
    }
    return value;
  };
}
