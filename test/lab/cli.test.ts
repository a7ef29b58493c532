// The lab's command line: selection by name, usage errors, and what a partial run leaves alone.

import { describe, expect, it } from 'vitest';
import { main } from '../../lab/cli.ts';
import { memoryIo } from './memory-io.ts';

describe('npm run lab (lab/cli.ts)', () => {
  it('rejects an unknown scenario with exit code 2 and lists the valid ones', () => {
    const io = memoryIo();
    expect(main(['--scenario', 'nope'], io)).toBe(2);
    const err = io.err.join('');
    expect(err).toContain('unknown scenario "nope"');
    for (const name of [
      'reference-criticality',
      'starvation',
      'burst-vs-steady',
      'many-tenants',
      'heavy-tail',
    ]) {
      expect(err).toContain(name);
    }
    expect(io.out).toEqual([]);
    expect(io.files.size).toBe(0);
  });

  it('rejects an unknown policy with exit code 2 and lists the valid ones', () => {
    const io = memoryIo();
    expect(main(['--scenario', 'starvation', '--policy', 'lottery'], io)).toBe(2);
    const err = io.err.join('');
    expect(err).toContain('unknown policy "lottery"');
    expect(err).toContain('valid: fcfs, seed, workload-aware, workload-aware+tokens');
    expect(io.files.size).toBe(0);
  });

  it('runs workload-aware with token fairness by its lab name', () => {
    const io = memoryIo();
    expect(main(['--scenario', 'heavy-tail', '--policy', 'workload-aware+tokens'], io)).toBe(0);
    const report = io.out.join('');
    expect(report).toContain('npm run lab -- --scenario heavy-tail --policy workload-aware+tokens');
    expect(report).toMatch(/\| workload-aware\+tokens \(default\) +\| chat-a /);
    expect(report).not.toMatch(/\| workload-aware +\|/);
    expect(io.files.size).toBe(0);
  });

  it('rejects unknown flags and stray arguments with exit code 2', () => {
    expect(main(['--scenari', 'starvation'], memoryIo())).toBe(2);
    expect(main(['starvation'], memoryIo())).toBe(2);
  });

  it('runs one scenario × policy, prints its report and writes nothing', () => {
    const io = memoryIo();
    expect(main(['--scenario', 'burst-vs-steady', '--policy', 'workload-aware'], io)).toBe(0);
    const report = io.out.join('');
    expect(report).toContain('npm run lab -- --scenario burst-vs-steady --policy workload-aware');
    expect(report).toContain('### burst-vs-steady');
    expect(report).not.toContain('### starvation');
    expect(report).not.toMatch(/\| fcfs /);
    expect(io.files.size).toBe(0);
    expect(io.err.join('')).toContain('µs/grant');
  });
});
