// @vitest-environment jsdom
import { cleanup, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError, UnreachableError, request } from '../api/http';
import { ErrorState } from './states';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe('errors, said plainly', () => {
  it('tells an unreachable server from a refusal', async () => {
    vi.stubGlobal('fetch', async () => {
      throw new TypeError('Failed to fetch');
    });
    const unreachable = await request('/api/runs').catch((e: unknown) => e);
    expect(unreachable).toBeInstanceOf(UnreachableError);
    render(<ErrorState error={unreachable} />);
    expect(screen.getByRole('alert').textContent).toContain('Cannot reach the topas API');
    expect(screen.getByRole('alert').textContent).toContain('npm start');
  });

  it('shows the server’s message, which names the field', async () => {
    vi.stubGlobal('fetch', async () => new Response(JSON.stringify({ error: { code: 'ValidationError', message: 'timeoutSeconds: must be an integer from 1 to 86400, got 0' } }), { status: 400 }));
    const refused = await request('/api/runs', { body: {} }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ApiError);
    render(<ErrorState error={refused} />);
    expect(screen.getByRole('alert').textContent).toContain('timeoutSeconds: must be an integer from 1 to 86400, got 0 (HTTP 400, ValidationError)');
  });
});
