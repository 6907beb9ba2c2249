import { describe, expect, it } from 'vitest';
import { createStyle, formatDuration, formatStep, shortIds, table } from './format.js';

const plain = createStyle({ isTTY: false }, {});

describe('format', () => {
  it('colours only on a terminal without NO_COLOR', () => {
    expect(createStyle({ isTTY: true }, {}).red('x')).not.toBe('x');
    expect(createStyle({ isTTY: true }, { NO_COLOR: '' }).red('x')).toBe('x');
    expect(plain.red('x')).toBe('x');
  });

  it('formats durations for people', () => {
    expect([formatDuration(null), formatDuration(12), formatDuration(1234), formatDuration(125_000), formatDuration(3_720_000)]).toEqual([
      '-',
      '12 ms',
      '1.23 s',
      '2m 05s',
      '1h 02m',
    ]);
  });

  it('shortens ids to the shortest distinct prefix of at least 8 characters', () => {
    const ids = ['01a20009-1620-7366', '01a20009-1cfa-7ae3', '01b00000-0000-7000'];
    expect([...shortIds(ids).values()]).toEqual(['01a20009-16', '01a20009-1c', '01b00000']);
    // In the order given, never ending on a dash, and the same id once.
    expect([...shortIds(['01a20009-2000', '01a20009-1cfa', '01a20009-2000']).entries()]).toEqual([
      ['01a20009-2000', '01a20009-2'],
      ['01a20009-1cfa', '01a20009-1'],
    ]);
  });

  it('aligns table columns and reads failed steps with their location once', () => {
    expect(table(['A', 'B'], [['long value', 'x'], ['y', 'z']], plain)).toBe('A           B\nlong value  x\ny           z');
    const step = { runId: 'r', seq: 1, parentSeq: null, kind: 'step' as const, name: 'pay', status: 'failed' as const, startedAt: '', finishedAt: '', durationMs: 3 };
    expect(formatStep(plain, { ...step, message: 'a.lua:3: boom', file: 'a.lua', line: 3 })).toBe('✗ pay — boom (a.lua:3)');
  });
});
