// The option parser: defaults, flag parsing, and rejection of bad values with the flag named.

import { describe, expect, it } from 'vitest';
import { parseSimArgs } from '../../sim/flags.ts';
import { DEFAULT_SIM_OPTIONS, resolveSimOptions } from '../../sim/options.ts';

describe('parseSimArgs', () => {
  it('returns the frozen defaults with no flags', () => {
    const options = parseSimArgs([]);
    expect(options).toEqual(DEFAULT_SIM_OPTIONS);
    expect(options).toMatchObject({ host: '127.0.0.1', name: 'sim', models: ['sim-model'], maxNumSeqs: 4 });
    expect(Object.isFrozen(options)).toBe(true);
    expect(Object.isFrozen(options.models)).toBe(true);
  });

  it('parses every flag', () => {
    const options = parseSimArgs(
      [
        '--port=8001 --host 0.0.0.0 --name a --model x,y --model z --max-num-seqs 8 --max-waiting 5',
        '--ttft-ms 12.5 --itl-ms 3 --default-max-tokens 9 --error-rate 0.25 --stall-ms 100 --stall-rate 0.5',
        '--refuse --seed 99 --output-frac 0.15 --output-tokens 150 --kv-cache-tokens 4096 --vllm-legacy-metrics',
      ]
        .join(' ')
        .split(' '),
    );
    expect(options).toEqual({
      port: 8001,
      host: '0.0.0.0',
      name: 'a',
      models: ['x', 'y', 'z'],
      maxNumSeqs: 8,
      maxWaiting: 5,
      ttftMs: 12.5,
      itlMs: 3,
      defaultMaxTokens: 9,
      outputFrac: 0.15,
      outputTokens: 150,
      kvCacheTokens: 4096,
      engine: 'vllm',
      vllmLegacyMetrics: true,
      errorRate: 0.25,
      stallMs: 100,
      stallRate: 0.5,
      refuse: true,
      seed: 99,
    });
  });

  it.each([
    [['--max-num-seqs', '0'], /--max-num-seqs must be an integer >= 1, got 0/],
    [['--error-rate', '2'], /--error-rate must be a number in 0\.\.1, got 2/],
    [['--stall-rate', '-0.1'], /--stall-rate/],
    [['--port', '70000'], /--port/],
    [['--port', 'abc'], /--port must be a number, got "abc"/],
    [['--ttft-ms', ''], /--ttft-ms must be a number/],
    [['--max-num-seqs', '1.5'], /--max-num-seqs must be an integer/],
    [['--name', 'has space'], /--name/],
    [['--model', ','], /--model/],
    [['--bogus'], /--bogus/],
    [['--itl-ms'], /--itl-ms/],
    [['--engine', 'tgi'], /--engine must be one of vllm, sglang, got "tgi"/],
    [['--output-frac', '0'], /--output-frac must be a number > 0 and <= 1, got 0/],
    [['--output-frac', '1.5'], /--output-frac/],
    [['--kv-cache-tokens', '0'], /--kv-cache-tokens must be an integer >= 1, got 0/],
    [['--kv-cache-tokens', '2.5'], /--kv-cache-tokens/],
    [['--engine', 'sglang', '--vllm-legacy-metrics'], /--vllm-legacy-metrics applies to --engine vllm only/],
  ])('rejects %j naming the flag', (argv, message) => {
    expect(() => parseSimArgs(argv)).toThrow(message);
  });

  it('parses --engine sglang', () => {
    expect(parseSimArgs(['--engine', 'sglang'])).toMatchObject({
      engine: 'sglang',
      vllmLegacyMetrics: false,
    });
  });

  it('sizes the KV cache at 2048 tokens per slot unless --kv-cache-tokens is given', () => {
    expect(DEFAULT_SIM_OPTIONS.kvCacheTokens).toBe(4 * 2048);
    expect(parseSimArgs(['--max-num-seqs', '8']).kvCacheTokens).toBe(8 * 2048);
    expect(parseSimArgs(['--max-num-seqs', '8', '--kv-cache-tokens', '100']).kvCacheTokens).toBe(100);
  });
});

describe('resolveSimOptions', () => {
  it('names the field for programmatic options', () => {
    expect(() => resolveSimOptions({ maxNumSeqs: 0 })).toThrow(/^maxNumSeqs must be/);
    expect(() => resolveSimOptions({ models: [] })).toThrow(/^models must be/);
    expect(() => resolveSimOptions({ outputFrac: 0 })).toThrow(/^outputFrac must be/);
    expect(() => resolveSimOptions({ engine: 'x' as 'vllm' })).toThrow(/^engine must be/);
    expect(() => resolveSimOptions({ engine: 'sglang', vllmLegacyMetrics: true })).toThrow(
      /^vllmLegacyMetrics applies to engine vllm only/,
    );
  });

  it('keeps defaults for fields left undefined', () => {
    expect(resolveSimOptions({ maxNumSeqs: undefined, itlMs: 7 })).toMatchObject({ maxNumSeqs: 4, itlMs: 7 });
  });
});
