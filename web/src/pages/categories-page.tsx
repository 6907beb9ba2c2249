/**
 * Failure categories: the ordered rules (first match wins; no match is a
 * Regression). Everyone sees them; editors change them as YAML (or move, add and
 * remove rules in the list), try the draft against the last N failures (before →
 * after), save it, and re-apply the saved rules to past failures in the background.
 */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useId, useMemo, useState } from 'react';
import { Link } from 'react-router-dom';
import { api } from '../api/endpoints';
import type { CategoryApplyJob, CategoryPreview, CategoryRule } from '../api/types';
import { CategoryBadge } from '../components/category-badge';
import { GuardedButton } from '../components/guarded';
import { RelativeTime } from '../components/relative-time';
import { ErrorState, InlineError, Loading } from '../components/states';
import { useDocumentTitle } from '../hooks/use-document-title';
import { useNow } from '../hooks/use-now';
import { useCan } from '../hooks/use-session';
import { DEFAULT_CATEGORY } from '../../../src/core/categories';
import { NEW_RULE, describeMatch, moveRule, rulesToYaml, yamlToRules } from '../lib/category-yaml';
import { headline } from '../lib/domain';
import { formatCount } from '../lib/format';

export default function CategoriesPage() {
  useDocumentTitle('Categories');
  const queryClient = useQueryClient();
  const now = useNow(10_000);
  const canEdit = useCan('editor').allowed;
  const stored = useQuery({ queryKey: ['categories'], queryFn: ({ signal }) => api.categories(signal) });
  const [draft, setDraft] = useState<string | null>(null);
  const yamlId = useId();

  // The editor starts from the stored rules, and follows them until the user types.
  const storedYaml = useMemo(() => (stored.data ? rulesToYaml(stored.data.rules) : ''), [stored.data]);
  const text = draft ?? storedYaml;
  const parsed = useMemo(() => yamlToRules(text), [text]);
  const dirty = draft !== null && draft !== storedYaml;

  const save = useMutation({
    mutationFn: (rules: CategoryRule[]) => api.saveCategories(rules),
    onSuccess: (fresh) => {
      queryClient.setQueryData(['categories'], fresh);
      setDraft(null);
    },
  });

  if (stored.isPending) return <Loading label="Loading the category rules…" />;
  if (stored.isError) return <ErrorState error={stored.error} title="Could not load the category rules" retry={() => void stored.refetch()} />;
  const state = stored.data;
  const editRules = (f: (rules: CategoryRule[]) => CategoryRule[]) => {
    if ('rules' in parsed) setDraft(rulesToYaml(f(parsed.rules)));
  };
  const shown = 'rules' in parsed ? parsed.rules : state.rules;

  return (
    <>
      <div className="page-header">
        <h1>Failure categories</h1>
        <span className="subtitle">
          Ordered rules: the first whose every matcher matches gives a failure its category; a failure no rule matches is a <CategoryBadge category={DEFAULT_CATEGORY} />.
        </span>
      </div>
      <p className="subtitle" data-testid="categories-version">
        {state.defaults ? (
          'The shipped defaults (nothing saved yet).'
        ) : (
          <>
            Version {state.version}, saved <RelativeTime iso={state.updatedAt} now={now} />
            {state.updatedBy ? ` by ${state.updatedBy}` : ''}.
          </>
        )}{' '}
        {dirty && <strong>Unsaved changes.</strong>}
      </p>

      <div className="grid grid-2">
        <section className="card" aria-labelledby="rules-heading">
          <h2 id="rules-heading">Rules{dirty ? ' (draft)' : ''}</h2>
          {shown.length === 0 ? (
            <p className="subtitle">No rules: every failure is a {DEFAULT_CATEGORY}.</p>
          ) : (
            <table data-testid="category-rules">
              <caption className="visually-hidden">Category rules in order; the first match wins</caption>
              <thead>
                <tr>
                  <th scope="col">#</th>
                  <th scope="col">Rule</th>
                  <th scope="col">Category</th>
                  {canEdit && (
                    <th scope="col">
                      <span className="visually-hidden">Order</span>
                    </th>
                  )}
                </tr>
              </thead>
              <tbody>
                {shown.map((rule, i) => (
                  <tr key={`${i}:${rule.name}`} data-testid="category-rule">
                    <td>{i + 1}</td>
                    <td>
                      <strong>{rule.name}</strong>
                      {describeMatch(rule).map((line) => (
                        <div key={line} className="subtitle mono" style={{ overflowWrap: 'anywhere' }}>
                          {line}
                        </div>
                      ))}
                    </td>
                    <td>{rule.category ? <CategoryBadge category={rule.category} /> : '—'}</td>
                    {canEdit && (
                      <td style={{ whiteSpace: 'nowrap' }}>
                        <button type="button" className="small" aria-label={`Move ${rule.name} up`} disabled={i === 0 || !('rules' in parsed)} onClick={() => editRules((r) => moveRule(r, i, -1))}>
                          ↑
                        </button>{' '}
                        <button
                          type="button"
                          className="small"
                          aria-label={`Move ${rule.name} down`}
                          disabled={i === shown.length - 1 || !('rules' in parsed)}
                          onClick={() => editRules((r) => moveRule(r, i, 1))}
                        >
                          ↓
                        </button>{' '}
                        <button type="button" className="small danger" aria-label={`Remove ${rule.name}`} disabled={!('rules' in parsed)} onClick={() => editRules((r) => r.filter((_, j) => j !== i))}>
                          ×
                        </button>
                      </td>
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>

        <section className="card" aria-labelledby="yaml-heading">
          <h2 id="yaml-heading">As YAML</h2>
          <div className="field">
            <label htmlFor={yamlId}>
              Rules as YAML <span className="hint">(as in categories.yaml; matchers: test, message, log, definition, app, labels; a string is a substring, {'{regex: …}'} a regular expression)</span>
            </label>
            <textarea
              id={yamlId}
              className="yaml-editor"
              spellCheck={false}
              value={text}
              readOnly={!canEdit}
              aria-invalid={'error' in parsed}
              onChange={(e) => setDraft(e.target.value)}
            />
          </div>
          {'error' in parsed && (
            <div className="inline-error" role="alert">
              {parsed.error}
            </div>
          )}
          <div style={{ display: 'flex', gap: 8, flexWrap: 'wrap' }}>
            <GuardedButton needs="editor" type="button" className="primary" disabled={!dirty || !('rules' in parsed) || save.isPending} onClick={() => 'rules' in parsed && save.mutate(parsed.rules)}>
              {save.isPending ? 'Saving…' : 'Save rules'}
            </GuardedButton>
            <GuardedButton needs="editor" type="button" disabled={!('rules' in parsed)} onClick={() => editRules((r) => [...r, { ...NEW_RULE, name: uniqueName(r) }])}>
              Add a rule
            </GuardedButton>
            {dirty && (
              <button type="button" onClick={() => setDraft(null)}>
                Discard changes
              </button>
            )}
          </div>
          {save.isSuccess && !dirty && <p className="subtitle" role="status">Saved as version {save.data.version}.</p>}
          <InlineError error={save.error} />
        </section>
      </div>

      <Preview rules={'rules' in parsed ? parsed.rules : null} />
      <ApplyToHistory disabled={dirty} />
    </>
  );
}

function uniqueName(rules: readonly CategoryRule[]): string {
  let n = 1;
  while (rules.some((r) => r.name === (n === 1 ? NEW_RULE.name : `${NEW_RULE.name}-${n}`))) n++;
  return n === 1 ? NEW_RULE.name : `${NEW_RULE.name}-${n}`;
}

/** "Test these rules against the last N failures": what each failure is now, and what the draft would make it. */
function Preview({ rules }: { rules: CategoryRule[] | null }) {
  const [limit, setLimit] = useState(100);
  const limitId = useId();
  const preview = useMutation({ mutationFn: (args: { rules: CategoryRule[]; limit: number }) => api.previewCategories(args.rules, args.limit) });
  const [onlyChanged, setOnlyChanged] = useState(false);
  return (
    <section className="card" aria-labelledby="preview-heading">
      <h2 id="preview-heading">Test these rules</h2>
      <form
        style={{ display: 'flex', gap: 12, alignItems: 'flex-end', flexWrap: 'wrap', marginBottom: 12 }}
        onSubmit={(e) => {
          e.preventDefault();
          if (rules) preview.mutate({ rules, limit });
        }}
      >
        <div className="field" style={{ marginBottom: 0 }}>
          <label htmlFor={limitId}>Against the last … failures</label>
          <input id={limitId} type="number" min={1} max={1000} value={limit} onChange={(e) => setLimit(Math.max(1, Math.min(1000, Number(e.target.value) || 1)))} style={{ width: 100 }} />
        </div>
        <button type="submit" disabled={!rules || preview.isPending}>
          {preview.isPending ? 'Testing…' : 'Preview'}
        </button>
        {preview.data && (
          <label style={{ display: 'flex', gap: 6, alignItems: 'center', alignSelf: 'center' }}>
            <input type="checkbox" checked={onlyChanged} onChange={(e) => setOnlyChanged(e.target.checked)} /> Only the ones that change
          </label>
        )}
      </form>
      <InlineError error={preview.error} />
      {preview.data && <PreviewTable preview={preview.data} onlyChanged={onlyChanged} />}
    </section>
  );
}

function PreviewTable({ preview, onlyChanged }: { preview: CategoryPreview; onlyChanged: boolean }) {
  const changed = (p: CategoryPreview['items'][number]) => p.before.category !== p.after.category || p.before.rule !== p.after.rule;
  const rows = onlyChanged ? preview.items.filter(changed) : preview.items;
  return (
    <>
      <p data-testid="preview-summary">
        <strong>{formatCount(preview.changed)}</strong> of {formatCount(preview.items.length)} failure{preview.items.length === 1 ? '' : 's'} would change category.
      </p>
      {rows.length > 0 && (
        <div style={{ overflowX: 'auto', maxHeight: 420 }}>
          <table data-testid="preview-table">
            <caption className="visually-hidden">Recent failures: their category now and with these rules</caption>
            <thead>
              <tr>
                <th scope="col">Test</th>
                <th scope="col">Message</th>
                <th scope="col">Now</th>
                <th scope="col">With these rules</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((p, i) => (
                <tr key={`${p.runId}:${p.testKey}:${i}`} className={changed(p) ? 'preview-changed' : undefined} data-testid="preview-row" data-changed={changed(p)}>
                  <td style={{ maxWidth: 280, overflowWrap: 'anywhere' }}>
                    <Link to={`/tests/${p.testId}`}>{p.testKey}</Link> <Link to={`/runs/${p.runId}`} className="subtitle">run</Link>
                  </td>
                  <td style={{ maxWidth: 320 }}>
                    <span className="failure-text" title={p.message ?? undefined}>
                      {p.message ? headline(p.message) : '—'}
                    </span>
                  </td>
                  <td>
                    <CategoryBadge category={p.before.category} rule={p.before.rule} />
                  </td>
                  <td>
                    {changed(p) && <span aria-hidden="true">→ </span>}
                    <CategoryBadge category={p.after.category} rule={p.after.rule} />
                    {p.after.rule && <span className="subtitle"> {p.after.rule}</span>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

const DAY = 86_400_000;
function isoToLocalInput(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** Re-categorizes past failures with the saved rules, in the background; the page follows the job. */
function ApplyToHistory({ disabled }: { disabled: boolean }) {
  const queryClient = useQueryClient();
  const [since, setSince] = useState(() => isoToLocalInput(Date.now() - 7 * DAY));
  const sinceId = useId();
  const [jobId, setJobId] = useState<string | null>(null);
  const start = useMutation({
    mutationFn: () => api.applyCategories(new Date(since).toISOString()),
    onSuccess: ({ job }) => setJobId(job.id),
  });
  const job = useQuery({
    queryKey: ['categories', 'apply', jobId],
    queryFn: ({ signal }) => api.categoryJob(jobId!, signal),
    enabled: jobId !== null,
    refetchInterval: (q) => (q.state.data?.job.state === 'running' ? 1000 : false),
  });
  const current: CategoryApplyJob | undefined = job.data?.job ?? start.data?.job;
  useEffect(() => {
    if (current && current.state !== 'running') {
      void queryClient.invalidateQueries({ queryKey: ['runs'] });
      void queryClient.invalidateQueries({ queryKey: ['tests'] });
      void queryClient.invalidateQueries({ queryKey: ['insights'] });
    }
  }, [current?.state]);
  return (
    <section className="card" aria-labelledby="apply-heading">
      <h2 id="apply-heading">Re-apply to history</h2>
      <p className="subtitle">Gives the failures since a time the categories of the saved rules (in batches, in the background; runs keep running).</p>
      <div style={{ display: 'flex', gap: 8, alignItems: 'end', flexWrap: 'wrap' }}>
        <div className="field" style={{ marginBottom: 0 }}>
          <label htmlFor={sinceId}>Failures since</label>
          <input id={sinceId} type="datetime-local" value={since} onChange={(e) => setSince(e.target.value)} />
        </div>
        <GuardedButton needs="editor" type="button" disabled={disabled || !since || start.isPending || current?.state === 'running'} onClick={() => start.mutate()}>
          {start.isPending ? 'Starting…' : 'Re-apply the saved rules'}
        </GuardedButton>
        {disabled && <span className="subtitle">Save (or discard) the draft first.</span>}
      </div>
      <InlineError error={start.error} />
      <InlineError error={job.error} />
      {current && (
        <p role="status" data-testid="apply-job" data-state={current.state}>
          {current.state === 'running' ? 'Re-applying… ' : current.state === 'done' ? 'Done: ' : 'Failed: '}
          {formatCount(current.processed)} failure{current.processed === 1 ? '' : 's'} looked at, {formatCount(current.changed)} changed category.
          {current.error ? ` ${current.error}` : ''}
        </p>
      )}
    </section>
  );
}
