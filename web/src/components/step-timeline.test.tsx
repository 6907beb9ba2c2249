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

  it('says when there is nothing yet', () => {
    render(<StepTimeline tree={buildStepTree([], [])} />);
    expect(screen.getByText(/No steps or assertions recorded/)).toBeTruthy();
  });
});
