// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { buildStepTree } from '../lib/step-tree';
import { makeAssertion, makeStep } from '../testing/fixtures';
import { StepTimeline } from './step-timeline';

afterEach(cleanup);

describe('StepTimeline', () => {
  const steps = [
    makeStep({ seq: 1, kind: 'test', name: 'checkout totals', status: 'failed' }),
    makeStep({ seq: 2, parentSeq: 1, name: 'sum the cart', status: 'failed', message: 'failing.lua:12: expected a total of 30, got 25', line: 12, file: 'failing.lua' }),
    makeStep({ seq: 3, kind: 'test', name: 'still passes' }),
  ];
  const assertions = [
    makeAssertion({ seq: 1, stepSeq: 2, passed: false, message: 'expected a total of 30, got 25', file: 'failing.lua', line: 12, expected: '30', actual: '25' }),
    makeAssertion({ seq: 2, stepSeq: 3, passed: true, message: 'five letters', line: 20 }),
  ];

  it('opens failed steps with the failed assertion, its values and file:line; keeps passed ones folded', () => {
    render(<StepTimeline tree={buildStepTree(steps, assertions)} />);
    const failed = screen.getByTestId('failed-assertion');
    expect(failed.textContent).toContain('expected a total of 30, got 25');
    expect(failed.textContent).toContain('failing.lua:12');
    expect(within(failed).getByText('30')).toBeTruthy();
    expect(within(failed).getByText('25')).toBeTruthy();
    // The step message already names its line: not repeated.
    expect(screen.getByText('failing.lua:12: expected a total of 30, got 25')).toBeTruthy();
    expect(screen.queryByText('five letters')).toBeNull();
    const toggle = screen.getByRole('button', { name: 'Expand still passes' });
    expect(toggle.getAttribute('aria-expanded')).toBe('false');
    fireEvent.click(toggle);
    expect(screen.getByText('1 passed assertion')).toBeTruthy();
  });

  it('shows a table diff once, one difference per line, with the failed assertion; the failed steps say its first line', () => {
    const diff = 'expected the tables to be equal (2 differences)\n.b: unexpected key (got 2)\n.c: expected 3, got nil';
    const failing = [
      makeStep({ seq: 1, kind: 'test', name: 'tables', status: 'failed', message: `diff.lua:3: ${diff}`, line: 3, file: 'diff.lua' }),
      makeStep({ seq: 2, parentSeq: 1, name: 'compare', status: 'failed', message: `diff.lua:3: ${diff}`, line: 3, file: 'diff.lua' }),
    ];
    const failed = [makeAssertion({ seq: 1, stepSeq: 2, passed: false, message: diff, file: 'diff.lua', line: 3, expected: '{"a":1,"c":3}', actual: '{"a":1,"b":2}' })];
    const { container } = render(<StepTimeline tree={buildStepTree(failing, failed)} />);
    const text = container.textContent ?? '';
    const count = (part: string) => text.split(part).length - 1;
    expect(count('.b: unexpected key (got 2)')).toBe(1);
    expect(count('.c: expected 3, got nil')).toBe(1);
    const differences = within(screen.getByTestId('failed-assertion')).getByRole('list', { name: 'Differences' });
    expect(within(differences).getAllByRole('listitem').map((li) => li.textContent)).toEqual(['.b: unexpected key (got 2)', '.c: expected 3, got nil']);
    // both failed steps (the test and its step) show the headline, once each
    expect(screen.getAllByText('diff.lua:3: expected the tables to be equal (2 differences)')).toHaveLength(2);
  });

  it('shows the details of an error without an assertion with the innermost failed step only', () => {
    const error = 'boom.lua:2: first line\nsecond line';
    const failing = [
      makeStep({ seq: 1, kind: 'test', name: 'outer', status: 'failed', message: error, line: 2, file: 'boom.lua' }),
      makeStep({ seq: 2, parentSeq: 1, name: 'inner', status: 'failed', message: error, line: 2, file: 'boom.lua' }),
    ];
    const { container } = render(<StepTimeline tree={buildStepTree(failing, [])} />);
    expect((container.textContent ?? '').split('second line').length - 1).toBe(1);
    const messages = [...container.querySelectorAll('.step-message')].map((m) => m.textContent);
    expect(messages).toEqual(['boom.lua:2: first line', 'boom.lua:2: first line\nsecond line']);
  });

  it('says when there is nothing yet', () => {
    render(<StepTimeline tree={buildStepTree([], [])} />);
    expect(screen.getByText(/No steps or assertions recorded/)).toBeTruthy();
  });
});
