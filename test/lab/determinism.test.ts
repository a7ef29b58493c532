// The lab's output must be reproducible byte for byte: same command, same stdout, same files.

import * as prettier from 'prettier';
import { describe, expect, it } from 'vitest';
import { CHARTS_DIR, main, REPORT_PATH } from '../../lab/cli.ts';
import { SCENARIOS } from '../../lab/scenarios.ts';
import { memoryIo } from './memory-io.ts';

const runFull = () => {
  const io = memoryIo();
  expect(main([], io)).toBe(0);
  return io;
};

describe('npm run lab is deterministic', () => {
  const first = runFull();
  const second = runFull();

  it('prints identical reports and writes identical files on two runs', () => {
    expect(second.out.join('')).toBe(first.out.join(''));
    expect([...second.files.keys()]).toEqual([...first.files.keys()]);
    for (const [path, text] of first.files) expect(second.files.get(path), path).toBe(text);
  });

  it('writes the printed report to docs/policy-lab.md and one chart per scenario', () => {
    expect(first.files.get(REPORT_PATH)).toBe(first.out.join(''));
    for (const s of SCENARIOS) {
      const svg = first.files.get(`${CHARTS_DIR}/${s.name}.svg`);
      expect(svg, s.name).toMatch(/^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
      expect(first.out.join('')).toContain(`](lab/${s.name}.svg)`);
    }
  });

  it('keeps wall-clock figures out of the report', () => {
    expect(first.out.join('')).not.toMatch(/µs|grants/);
    expect(first.err.join('')).toMatch(/µs\/grant/);
  });

  it('quotes the default policy’s guarantee from its source', () => {
    expect(first.out.join('')).toContain('> Guarantee: every non-overdue score is < H + 4·S');
  });

  it('lays the report out as Prettier would, so `npm run lint` passes on the generated file', async () => {
    const report = first.out.join('');
    const options = (await prettier.resolveConfig(REPORT_PATH)) ?? {};
    expect(await prettier.format(report, { ...options, parser: 'markdown' })).toBe(report);
  });
});
