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

describe('a git run’s source', () => {
  const git = { type: 'git' as const, url: 'https://git.example.com/acme/tests.git', path: 'tests/smoke.lua', revision: 'v1.2.0' };

  it('shows the repository, path, revision and the commit it resolved to', async () => {
    const writeText = vi.fn(async () => {});
    vi.stubGlobal('navigator', { clipboard: { writeText } });
    vi.stubGlobal('isSecureContext', true);
    const commit = '085559cc9685dc4beb98e70dd092cef22b43d046';
    render(<RunSource k8sRef={null} source={{ ...git, commit }} />);
    const section = screen.getByTestId('git-source');
    expect(section.textContent).toContain('https://git.example.com/acme/tests.git');
    expect(section.textContent).toContain('tests/smoke.lua');
    expect(section.textContent).toContain('v1.2.0');
    expect(screen.getByTitle(commit).textContent).toBe('085559cc9685');
    fireEvent.click(screen.getByRole('button', { name: 'Copy the commit SHA' }));
    await waitFor(() => expect(writeText).toHaveBeenCalledWith(commit));
  });

  it('says when the commit is not known yet, and shows nothing for an inline run', () => {
    const { unmount } = render(<RunSource k8sRef={null} source={git} />);
    expect(screen.getByTestId('git-source').textContent).toContain('not checked out yet');
    unmount();
    const { container } = render(<RunSource k8sRef={null} source={{ type: 'inline', script: 'x' }} />);
    expect(container.textContent).toBe('');
  });

  it('shows both when a TestRun ran a git source', () => {
    render(<RunSource k8sRef={{ namespace: 'qa', name: 'smoke' }} source={git} />);
    expect(screen.getByTestId('crd-source')).toBeTruthy();
    expect(screen.getByTestId('git-source')).toBeTruthy();
  });
});
