// Resident memory of a process and all its descendants (Linux /proc), for the soak: wrangler dev runs
// the router in a workerd grandchild, so the router's memory is the tree's, not the launcher's.

import { readdirSync, readFileSync } from 'node:fs';

/**
 * Resident memory in MiB of `rootPid` and every process below it, by process name (`node` for wrangler,
 * `workerd` for the runtime); null where /proc is not available.
 */
export function treeRssByNameMiB(rootPid: number): Record<string, number> | null {
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return null;
  }
  const parentOf = new Map<number, number>();
  for (const e of entries) {
    try {
      // Field 4 of /proc/<pid>/stat is the parent; the name (field 2) may hold spaces, so split after ')'.
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parentOf.set(Number(e), Number(fields[1]));
    } catch {
      // The process ended while we looked.
    }
  }
  const inTree = (pid: number): boolean => {
    for (let p = pid, hops = 0; p > 1 && hops < 64; p = parentOf.get(p) ?? 0, hops++) {
      if (p === rootPid) return true;
    }
    return false;
  };
  const mib: Record<string, number> = {};
  for (const pid of parentOf.keys()) {
    if (!inTree(pid)) continue;
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const name = /Name:\s+(\S+)/.exec(status)?.[1] ?? 'unknown';
      const kib = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0);
      mib[name] = (mib[name] ?? 0) + kib / 1024;
    } catch {
      // Gone.
    }
  }
  return mib;
}
