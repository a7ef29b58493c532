// Pure pieces of the simulator: slot admission order, the token timeline, the PRNG and request parsing.

import { describe, expect, it } from 'vitest';
import { createPrng } from '../../sim/prng.ts';
import { parseInferenceRequest } from '../../sim/requests.ts';
import { SlotScheduler } from '../../sim/slot-scheduler.ts';
import { finishOffsetMs, tokenOffsetMs } from '../../sim/timeline.ts';

describe('SlotScheduler', () => {
  it('grants slots in FIFO order as running requests release them', async () => {
    const scheduler = new SlotScheduler(1, 10);
    const tickets = [0, 1, 2].map(() => scheduler.enqueue()!);
    const order: number[] = [];
    tickets.forEach((ticket, i) => void ticket.granted.then((ok) => ok && order.push(i)));
    await Promise.resolve();
    expect(order).toEqual([0]);
    tickets[0]!.release();
    await Promise.resolve();
    tickets[1]!.release();
    await Promise.resolve();
    expect(order).toEqual([0, 1, 2]);
    expect(scheduler.maxRunningSeen).toBe(1);
    // The first two found nobody waiting (the second still had to wait), the third found one.
    expect(scheduler.waitingAheadCounts).toEqual([2, 1]);
  });

  it('lets a waiting ticket leave the queue, resolving granted=false, and release is idempotent', async () => {
    const scheduler = new SlotScheduler(1, 10);
    const running = scheduler.enqueue()!;
    const leaving = scheduler.enqueue()!;
    const next = scheduler.enqueue()!;
    leaving.release();
    leaving.release();
    expect(await leaving.granted).toBe(false);
    expect(scheduler.waiting).toBe(1);
    running.release();
    running.release();
    expect(await next.granted).toBe(true);
    expect([scheduler.running, scheduler.waiting]).toEqual([1, 0]);
  });

  it('refuses a ticket only when all slots are busy and the queue is full', () => {
    const scheduler = new SlotScheduler(2, 1);
    expect(scheduler.enqueue()).not.toBeNull();
    expect(scheduler.enqueue()).not.toBeNull();
    expect(scheduler.enqueue()).not.toBeNull();
    expect(scheduler.enqueue()).toBeNull();
    expect([scheduler.running, scheduler.waiting]).toEqual([2, 1]);
    // The refused one is not counted as having joined.
    expect(scheduler.waitingAheadCounts).toEqual([3]);
  });
});

describe('timeline', () => {
  const plan = { tokens: 4, ttftMs: 100, itlMs: 10, stallMs: 0 };

  it('puts the first token at ttft and the rest one itl apart', () => {
    expect([0, 1, 2, 3].map((i) => tokenOffsetMs(plan, i))).toEqual([100, 110, 120, 130]);
    expect(finishOffsetMs(plan)).toBe(130);
  });

  it('inserts the stall after the first half of the tokens', () => {
    const stalled = { ...plan, stallMs: 500 };
    expect([0, 1, 2, 3].map((i) => tokenOffsetMs(stalled, i))).toEqual([100, 110, 620, 630]);
    expect(finishOffsetMs(stalled)).toBe(630);
    expect(finishOffsetMs({ ...stalled, tokens: 1 })).toBe(600);
  });
});

describe('createPrng', () => {
  it('is deterministic per seed and stays in [0, 1)', () => {
    const a = createPrng(5);
    const b = createPrng(5);
    const values = Array.from({ length: 1000 }, () => a());
    expect(Array.from({ length: 1000 }, () => b())).toEqual(values);
    expect(values.every((v) => v >= 0 && v < 1)).toBe(true);
    expect(createPrng(6)()).not.toBe(values[0]);
  });
});

describe('parseInferenceRequest', () => {
  it('estimates prompt tokens as ceil(chars / 4) over chat text and content parts', () => {
    const parsed = parseInferenceRequest(
      'chat',
      JSON.stringify({
        model: 'm',
        messages: [
          { role: 'system', content: 'abcde' },
          { role: 'user', content: [{ type: 'text', text: 'fgh' }] },
        ],
      }),
      16,
    );
    expect(parsed).toMatchObject({ ok: true, request: { promptTokens: 2, maxTokens: 16, stream: false } });
  });

  it('counts token-id prompts by length', () => {
    const parsed = parseInferenceRequest(
      'completions',
      JSON.stringify({ model: 'm', prompt: [1, 2, 3] }),
      16,
    );
    expect(parsed).toMatchObject({ ok: true, request: { promptTokens: 3 } });
  });

  it('rejects a JSON body that is not an object', () => {
    expect(parseInferenceRequest('chat', '[1]', 16)).toMatchObject({
      ok: false,
      error: { code: 'invalid_type' },
    });
  });
});
