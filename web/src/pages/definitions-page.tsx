/** Definitions: the stored, named tests, searchable, newest first. */
import { useInfiniteQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { api } from '../api/endpoints';
import { GuardedLink } from '../components/guarded';
import { CategoryBadge } from '../components/category-badge';
import { Labels } from '../components/labels';
import { PhaseBadge } from '../components/phase-badge';
import { RelativeTime } from '../components/relative-time';
import { Empty, ErrorState, InlineError, Loading } from '../components/states';
import { useDocumentTitle } from '../hooks/use-document-title';
import { useNow } from '../hooks/use-now';
import { useCan } from '../hooks/use-session';
import { formatDuration } from '../lib/format';

export default function DefinitionsPage() {
  useDocumentTitle('Definitions');
  const [params, setParams] = useSearchParams();
  const q = params.get('q') ?? '';
  const [text, setText] = useState(q);
  const now = useNow(10_000);
  const canCreate = useCan('editor').allowed;
  useEffect(() => setText(q), [q]);
  useEffect(() => {
    const timer = setTimeout(() => text !== q && setParams(text ? { q: text } : {}, { replace: true }), 300);
    return () => clearTimeout(timer);
  }, [text, q, setParams]);

  const list = useInfiniteQuery({
    queryKey: ['definitions', q],
    queryFn: ({ pageParam, signal }) => api.listDefinitions({ q: q || undefined, cursor: pageParam, limit: 100 }, signal),
    initialPageParam: null as string | null,
    getNextPageParam: (page) => page.nextCursor,
  });
  const items = list.data?.pages.flatMap((p) => p.items) ?? [];

  return (
    <>
      <div className="page-header">
        <h1>Definitions</h1>
        <span className="subtitle">Stored tests you can run again and again.</span>
        <div className="actions">
          <GuardedLink needs="editor" className="button primary" to="/definitions/new">
            New definition
          </GuardedLink>
        </div>
      </div>
      <div className="field" style={{ maxWidth: 360 }}>
        <label htmlFor="definition-search">Name contains</label>
        <input id="definition-search" type="search" value={text} onChange={(e) => setText(e.target.value)} />
      </div>
      {list.isPending ? (
        <Loading label="Loading definitions…" />
      ) : list.isError ? (
        <ErrorState error={list.error} title="Could not load definitions" retry={() => void list.refetch()} />
      ) : items.length === 0 ? (
        q ? (
          <Empty title="No definition matches">
            <p>Nothing is named like “{q}”.</p>
          </Empty>
        ) : (
          <Empty title="No definitions yet">
            {canCreate ? (
              <p>
                <Link to="/definitions/new">Create one</Link> with a Lua script, then run it from here, the CLI or the API.
              </p>
            ) : (
              <p>An editor creates them (with a Lua script, here, the CLI or the API); then they can be run from here.</p>
            )}
          </Empty>
        )
      ) : (
        <div className="card" style={{ padding: 0 }}>
          <table>
            <caption className="visually-hidden">Test definitions</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Description</th>
                <th scope="col">Last result</th>
                <th scope="col">App</th>
                <th scope="col">Labels</th>
                <th scope="col" className="num">
                  Timeout
                </th>
                <th scope="col">Updated</th>
                <th scope="col">
                  <span className="visually-hidden">Links</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((d) => (
                <tr key={d.id} data-testid="definition-row">
                  <td>
                    <Link to={`/definitions/${d.id}`}>{d.name}</Link>
                  </td>
                  <td className="subtitle" style={{ maxWidth: 320 }}>
                    {d.description || '—'}
                  </td>
                  <td data-testid="definition-last-run">
                    {d.lastRun ? (
                      <span style={{ display: 'inline-flex', gap: 6, alignItems: 'center', flexWrap: 'wrap' }}>
                        <Link to={`/runs/${d.lastRun.id}`} aria-label={`Last run: ${d.lastRun.phase}`}>
                          <PhaseBadge phase={d.lastRun.phase} />
                        </Link>
                        <RelativeTime iso={d.lastRun.finishedAt} now={now} />
                        {d.lastRun.category && <CategoryBadge category={d.lastRun.category} />}
                      </span>
                    ) : (
                      <span className="subtitle">never run</span>
                    )}
                  </td>
                  <td>{d.appName ?? '—'}</td>
                  <td>
                    <Labels labels={d.labels} max={3} />
                  </td>
                  <td className="num">{formatDuration(d.timeoutSeconds * 1000)}</td>
                  <td>
                    <RelativeTime iso={d.updatedAt} now={now} />
                  </td>
                  <td>
                    <Link to={`/runs?definition=${d.id}`}>History</Link> · <Link to={`/tests?definition=${d.id}`}>Tests</Link>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {list.hasNextPage && (
        <button type="button" onClick={() => void list.fetchNextPage()} disabled={list.isFetchingNextPage}>
          {list.isFetchingNextPage ? 'Loading…' : 'Load more'}
        </button>
      )}
      {list.isFetchNextPageError && <InlineError error={list.error} />}
    </>
  );
}
