// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CrdBadge } from './crd-badge';
import { RunSource } from './run-source';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe('a CRD run’s source', () => {
  it('shows the namespace, the TestRun and copyable kubectl commands', async () => {
    const writeText = vi.fn(async () => {});
    vi.stubGlobal('navigator', { clipboard: { writeText } });
    vi.stubGlobal('isSecureContext', true);
    render(<RunSource k8sRef={{ namespace: 'qa', name: 'checkout-nightly' }} />);
    const section = screen.getByTestId('crd-source');
    expect(section.textContent).toContain('kubectl get testrun checkout-nightly -n qa');
    expect(section.textContent).toContain('kubectl describe testrun checkout-nightly -n qa');
    fireEvent.click(screen.getByRole('button', { name: 'Copy the kubectl describe command' }));
    await waitFor(() => expect(writeText).toHaveBeenCalledWith('kubectl describe testrun checkout-nightly -n qa'));
    await screen.findByText('Copied');
    fireEvent.click(screen.getByRole('button', { name: 'Copy namespace qa' }));
    await waitFor(() => expect(writeText).toHaveBeenLastCalledWith('qa'));
  });

  it('marks CRD runs with a badge whose tooltip says where they came from, for keyboard users too', () => {
    render(<CrdBadge />);
    const badge = screen.getByText('CRD');
    expect(badge.getAttribute('tabindex')).toBe('0');
    const tooltip = document.getElementById(badge.getAttribute('aria-describedby')!);
    expect(tooltip?.getAttribute('role')).toBe('tooltip');
    expect(tooltip?.textContent).toBe('Started from TestRun CRD');
  });
});
