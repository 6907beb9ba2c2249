// @vitest-environment jsdom
import { act, cleanup, fireEvent, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { useUrlFilters } from '../hooks/use-url-filters';
import { renderAt } from '../testing/render';
import { RunFiltersBar } from './run-filters';

function FiltersPage() {
  const [filters, setFilters] = useUrlFilters();
  return <RunFiltersBar filters={filters} onChange={setFilters} />;
}

const location = () => decodeURIComponent(screen.getByTestId('location').textContent!);

afterEach(() => {
  cleanup();
  vi.useRealTimers();
});

describe('the Runs filter bar and the URL', () => {
  it('shows the filters of the URL it was opened with', () => {
    renderAt('/runs?phase=Failed,Error&origin=crd&label=team%3Dcore&q=checkout&since=24h', '/runs', <FiltersPage />);
    expect(screen.getByRole('button', { name: 'Failed' }).getAttribute('aria-pressed')).toBe('true');
    expect(screen.getByRole('button', { name: 'Error' }).getAttribute('aria-pressed')).toBe('true');
    expect(screen.getByRole('button', { name: 'Passed' }).getAttribute('aria-pressed')).toBe('false');
    expect(screen.getByRole('button', { name: 'crd' }).getAttribute('aria-pressed')).toBe('true');
    expect((screen.getByLabelText('Name contains') as HTMLInputElement).value).toBe('checkout');
    expect((screen.getByLabelText('Created') as HTMLSelectElement).value).toBe('24h');
    expect(screen.getByText('label team=core')).toBeTruthy();
  });

  it('writes every change to the URL, text after a pause', async () => {
    vi.useFakeTimers();
    renderAt('/runs?phase=Failed', '/runs', <FiltersPage />);
    fireEvent.click(screen.getByRole('button', { name: 'Passed' }));
    expect(location()).toBe('/runs?phase=Passed,Failed');
    fireEvent.click(screen.getByRole('button', { name: 'cli' }));
    expect(location()).toBe('/runs?phase=Passed,Failed&origin=cli');
    fireEvent.change(screen.getByLabelText('Label'), { target: { value: 'team=core' } });
    fireEvent.keyDown(screen.getByLabelText('Label'), { key: 'Enter' });
    expect(location()).toBe('/runs?phase=Passed,Failed&origin=cli&label=team=core');
    fireEvent.change(screen.getByLabelText('Name contains'), { target: { value: 'pay' } });
    expect(location()).not.toContain('q=');
    await act(async () => {
      vi.advanceTimersByTime(400);
    });
    expect(location()).toBe('/runs?phase=Passed,Failed&origin=cli&label=team=core&q=pay');
    fireEvent.change(screen.getByLabelText('Created'), { target: { value: '7d' } });
    expect(location()).toContain('since=7d');
    fireEvent.click(screen.getByRole('button', { name: 'Clear all filters' }));
    expect(location()).toBe('/runs');
  });

  it('toggles failure categories as repeated `category` params, offering one the URL has that the rules do not', () => {
    function WithCategories() {
      const [filters, setFilters] = useUrlFilters();
      return <RunFiltersBar filters={filters} onChange={setFilters} categories={['Regression', 'Config Gap']} />;
    }
    renderAt('/runs?category=Old%20Name', '/runs', <WithCategories />);
    const group = screen.getByRole('group', { name: 'Category' });
    expect([...group.querySelectorAll('button')].map((b) => `${b.textContent}:${b.getAttribute('aria-pressed')}`)).toEqual(['Regression:false', 'Config Gap:false', 'Old Name:true']);
    fireEvent.click(screen.getByRole('button', { name: 'Config Gap' }));
    expect(location()).toBe('/runs?category=Old+Name&category=Config+Gap');
    fireEvent.click(screen.getByRole('button', { name: 'Old Name' }));
    expect(location()).toBe('/runs?category=Config+Gap');
  });

  it('says how to write a label instead of sending a bad one', () => {
    renderAt('/runs', '/runs', <FiltersPage />);
    fireEvent.change(screen.getByLabelText('Label'), { target: { value: 'team' } });
    fireEvent.click(screen.getByRole('button', { name: 'Add' }));
    expect(screen.getByRole('alert').textContent).toContain('key=value');
    expect(location()).toBe('/runs');
  });
});
