// @vitest-environment jsdom
import { cleanup, render, screen } from '@testing-library/react';
import { MemoryRouter } from 'react-router-dom';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunListItem } from '../api/types';
import { makeRun } from '../testing/fixtures';
import { FailureCell } from './runs-table';

afterEach(cleanup);

const cell = (overrides: Parameters<typeof makeRun>[0]) =>
  render(
    <MemoryRouter>
      <FailureCell run={makeRun(overrides) as unknown as RunListItem} />
    </MemoryRouter>,
  );

describe('the Runs list failure column', () => {
  it('shows a failed run’s category, reason and the first line of its message, all of it as the title', () => {
    cell({ phase: 'Failed', reason: 'AssertionFailed', message: 'expected a total of 30, got 25\nexpected: 30\nactual: 25', category: 'Config Gap', categoryRule: 'config-gap' });
    expect(screen.getByTestId('category-badge').textContent).toBe('Config Gap');
    const text = screen.getByText('AssertionFailed: expected a total of 30, got 25');
    expect(text.getAttribute('title')).toBe('AssertionFailed: expected a total of 30, got 25\nexpected: 30\nactual: 25');
  });

  it('says how many failures were quarantined on a run that passed because of it', () => {
    cell({ phase: 'Passed', summary: { stepsPassed: 1, stepsFailed: 1, stepsSkipped: 0, assertionsPassed: 1, assertionsFailed: 1, quarantinedFailures: 1 } });
    expect(screen.getByTestId('run-quarantined').textContent).toBe('1 quarantined failure');
  });

  it('is empty for a run that passed or is still going', () => {
    const { container } = cell({ phase: 'Running' });
    expect(container.textContent).toBe('');
    cleanup();
    expect(cell({ phase: 'Passed' }).container.textContent).toBe('');
  });
});
