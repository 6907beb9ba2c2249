// @vitest-environment jsdom
import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { CategoryRulesState, Identity, Role } from '../api/types';
import { SessionContext } from '../hooks/use-session';
import { apiError, fakeFetch, renderAt, reply } from '../testing/render';
import CategoriesPage from './categories-page';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const state: CategoryRulesState = {
  rules: [
    { name: 'platform', category: 'Platform Issue', match: { message: ['connection refused'] } },
    { name: 'config', category: 'Config Gap', match: { message: [{ regex: 'missing (env|config)' }] } },
  ],
  version: 3,
  updatedAt: '2025-01-31T12:00:00.000Z',
  updatedBy: 'alice',
  defaults: false,
};

function renderAs(role: Role, routes: Record<string, unknown> = {}) {
  const api = fakeFetch({ 'GET /api/categories': state, ...routes });
  vi.stubGlobal('fetch', api.fetch);
  const identity: Identity = { name: `a-${role}`, role, tokenId: 't1', via: 'cookie' };
  renderAt(
    '/categories',
    '/categories',
    <SessionContext.Provider value={identity}>
      <CategoriesPage />
    </SessionContext.Provider>,
  );
  return api;
}

const yaml = () => screen.getByRole('textbox', { name: /^Rules as YAML/ }) as HTMLTextAreaElement;

describe('the Categories page', () => {
  it('shows a viewer the ordered rules, read-only, and the save disabled with the role it needs', async () => {
    renderAs('viewer');
    const rules = await screen.findAllByTestId('category-rule');
    expect(rules.map((r) => r.textContent)).toEqual(['1platformmessage ~ "connection refused"Platform Issue', '2configmessage ~ /missing (env|config)/Config Gap']);
    expect(yaml().readOnly).toBe(true);
    expect(yaml().value).toContain('- name: platform');
    expect((screen.getByRole('button', { name: 'Save rules' }) as HTMLButtonElement).disabled).toBe(true);
    expect(screen.getByTestId('categories-version').textContent).toContain('Version 3');
    expect(screen.queryByRole('button', { name: 'Move config up' })).toBeNull();
  });

  it('lets an editor move a rule up, then saves the new order (PUT) and shows the server’s field error', async () => {
    const api = renderAs('editor', { 'PUT /api/categories': apiError(400, 'ValidationError', 'rules.0.match.message.0.regex: is not a valid regular expression') });
    fireEvent.click(await screen.findByRole('button', { name: 'Move config up' }));
    expect(screen.getAllByTestId('category-rule').map((r) => r.textContent!.slice(0, 7))).toEqual(['1config', '2platfo']);
    expect(yaml().value.indexOf('name: config')).toBeLessThan(yaml().value.indexOf('name: platform'));
    fireEvent.click(screen.getByRole('button', { name: 'Save rules' }));
    expect((await screen.findByRole('alert')).textContent).toContain('rules.0.match.message.0.regex: is not a valid regular expression');
    expect((api.requests.find((r) => r.method === 'PUT')!.body as { rules: { name: string }[] }).rules.map((r) => r.name)).toEqual(['config', 'platform']);
  });

  it('says when the YAML does not parse, and does not send it', async () => {
    const api = renderAs('editor');
    await screen.findAllByTestId('category-rule');
    fireEvent.change(yaml(), { target: { value: 'rules: [unclosed' } });
    expect((await screen.findByRole('alert')).textContent).toContain('does not parse');
    expect((screen.getByRole('button', { name: 'Save rules' }) as HTMLButtonElement).disabled).toBe(true);
    expect(api.requests.filter((r) => r.method !== 'GET')).toEqual([]);
  });

  it('previews the draft against recent failures: before → after, and how many change', async () => {
    const api = renderAs('viewer', {
      'POST /api/categories/preview': {
        items: [
          { runId: 'r1', testKey: 'a.lua::pay', testId: 't1', message: 'connection refused\nat a.lua:3', before: { category: 'Regression', rule: null }, after: { category: 'Platform Issue', rule: 'platform' } },
          { runId: 'r2', testKey: 'a.lua::login', testId: 't2', message: 'bad password', before: { category: 'Regression', rule: null }, after: { category: 'Regression', rule: null } },
        ],
        changed: 1,
      },
    });
    await screen.findAllByTestId('category-rule');
    fireEvent.change(screen.getByLabelText('Against the last … failures'), { target: { value: '50' } });
    fireEvent.click(screen.getByRole('button', { name: 'Preview' }));
    expect((await screen.findByTestId('preview-summary')).textContent).toBe('1 of 2 failures would change category.');
    const rows = screen.getAllByTestId('preview-row');
    expect(rows.map((r) => r.getAttribute('data-changed'))).toEqual(['true', 'false']);
    expect(within(rows[0]!).getAllByTestId('category-badge').map((b) => b.textContent)).toEqual(['Regression', 'Platform Issue']);
    expect(api.requests.find((r) => r.method === 'POST')!.body).toEqual({ rules: state.rules, limit: 50 });
  });

  it('re-applies the saved rules to history and follows the job until it is done', async () => {
    let polls = 0;
    const job = { id: 'job-1', state: 'running', since: '2025-01-24T00:00:00.000Z', processed: 0, changed: 0, startedAt: '2025-01-31T12:00:00.000Z', finishedAt: null };
    const api = renderAs('editor', {
      'POST /api/categories/apply': reply(202, { job }),
      'GET /api/categories/apply/job-1': () => (++polls < 2 ? { job: { ...job, processed: 40 } } : { job: { ...job, state: 'done', processed: 120, changed: 7, finishedAt: '2025-01-31T12:00:05.000Z' } }),
    });
    await screen.findAllByTestId('category-rule');
    fireEvent.change(screen.getByLabelText('Failures since'), { target: { value: '2025-01-24T00:00' } });
    fireEvent.click(screen.getByRole('button', { name: 'Re-apply the saved rules' }));
    await waitFor(() => expect(screen.getByTestId('apply-job').getAttribute('data-state')).toBe('done'), { timeout: 5000 });
    expect(screen.getByTestId('apply-job').textContent).toBe('Done: 120 failures looked at, 7 changed category.');
    expect(api.requests.find((r) => r.method === 'POST')!.path).toBe(`/api/categories/apply?since=${encodeURIComponent(new Date('2025-01-24T00:00').toISOString())}`);
  });
});
