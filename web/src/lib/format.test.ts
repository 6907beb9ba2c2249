import { describe, expect, it } from 'vitest';
import { formatDuration, formatDurationChange, formatLocation, formatPercent, formatRelative, withLocation } from './format';
import { formatKeyValueText, parseKeyValueText } from './key-value-text';
import { kubectlCommands } from './k8s-source';

describe('format', () => {
  it('formats durations at every scale', () => {
    expect(formatDuration(null)).toBe('—');
    expect(formatDuration(850)).toBe('850 ms');
    expect(formatDuration(1206)).toBe('1.21 s');
    expect(formatDuration(5000)).toBe('5 s');
    expect(formatDuration(42_500)).toBe('42.5 s');
    expect(formatDuration(185_000)).toBe('3 m 05 s');
    expect(formatDuration(3_720_000)).toBe('1 h 02 m');
    expect(formatDurationChange(250)).toBe('+250 ms');
    expect(formatDurationChange(-1500)).toBe('-1.5 s');
    expect(formatDurationChange(0)).toBe('±0 ms');
  });
  it('formats relative times, percentages and locations', () => {
    const now = Date.parse('2025-01-31T12:00:00Z');
    expect(formatRelative('2025-01-31T11:59:50Z', now)).toBe('10 s ago');
    expect(formatRelative('2025-01-31T11:55:00Z', now)).toBe('5 min ago');
    expect(formatRelative('2025-01-29T12:00:00Z', now)).toBe('2 d ago');
    expect(formatPercent(0.925)).toBe('92.5%');
    expect(formatPercent(1)).toBe('100%');
    expect(formatPercent(null)).toBe('—');
    expect(formatLocation('a.lua:3')).toBe('a.lua:3');
    expect(formatLocation({ file: 'a.lua', line: 3 })).toBe('a.lua:3');
    expect(formatLocation({ file: null, line: null })).toBeNull();
    expect(withLocation('a.lua:3: boom', 'a.lua:3')).toBe('a.lua:3: boom');
    expect(withLocation('boom', 'a.lua:3')).toBe('boom (a.lua:3)');
    expect(withLocation('boom', null)).toBe('boom');
  });
});

describe('KEY=value text', () => {
  it('parses lines, naming the bad ones', () => {
    expect(parseKeyValueText('A=1\n\n# comment\nURL=http://x/?a=b\nbad\n9X=1\nA=2')).toEqual({
      values: { A: '2', URL: 'http://x/?a=b' },
      errors: ['line 5: expected NAME=value, got "bad"', 'line 6: "9X" is not a valid variable name (letters, digits and _, not starting with a digit)', 'line 7: A is set twice'],
    });
    expect(parseKeyValueText('team=core\napp.kubernetes.io/name=x', 'label').values).toEqual({ team: 'core', 'app.kubernetes.io/name': 'x' });
    expect(formatKeyValueText({ A: '1', B: 'x=y' })).toBe('A=1\nB=x=y');
  });
});

describe('kubectl commands of a CRD run', () => {
  it('names the TestRun and its namespace', () => {
    expect(kubectlCommands({ namespace: 'qa', name: 'checkout-1' })).toEqual({
      get: 'kubectl get testrun checkout-1 -n qa',
      describe: 'kubectl describe testrun checkout-1 -n qa',
    });
  });
});
