/** Apps: each system under test with its services (version, ready/desired replicas, restarts), databases and conditions. */
import { useQuery } from '@tanstack/react-query';
import { api } from '../api/endpoints';
import { isNotFound } from '../api/http';
import type { App, Condition, Endpoint, ServiceStatus } from '../api/types';
import { RelativeTime } from '../components/relative-time';
import { Empty, ErrorState, Loading } from '../components/states';
import { useDocumentTitle } from '../hooks/use-document-title';
import { useNow } from '../hooks/use-now';

export default function AppsPage() {
  useDocumentTitle('Apps');
  const apps = useQuery({ queryKey: ['apps'], queryFn: ({ signal }) => api.apps(signal), refetchInterval: 5000 });
  const none = (
    <Empty title="No Apps yet">
      <p>
        An App declares the system under test: its services and databases. Apply one with <code>npx topas app apply app.yaml</code> (or a <code>kind: App</code>{' '}
        resource on Kubernetes) and it shows here with its replicas and conditions.
      </p>
    </Empty>
  );
  return (
    <>
      <div className="page-header">
        <h1>Apps</h1>
        <span className="subtitle">Systems under test and the state of their services.</span>
      </div>
      {apps.isPending ? (
        <Loading label="Loading Apps…" />
      ) : apps.isError ? (
        // Before the Apps API exists on this server, /api/apps answers 404: there are none.
        isNotFound(apps.error) ? none : <ErrorState error={apps.error} title="Could not load Apps" retry={() => void apps.refetch()} />
      ) : !apps.data.items.length ? (
        none
      ) : (
        apps.data.items.map((app) => <AppCard key={app.metadata.name} app={app} />)
      )}
    </>
  );
}

function AppCard({ app }: { app: App }) {
  const now = useNow(10_000);
  const status = app.status ?? {};
  const specByName = new Map((app.spec.services ?? []).map((s) => [s.name, s]));
  const services: { name: string; image?: string; version?: string; replicas?: number; status?: ServiceStatus }[] = (app.spec.services ?? []).map((spec) => ({
    ...spec,
    status: status.services?.find((s) => s.name === spec.name),
  }));
  for (const s of status.services ?? []) if (!specByName.has(s.name)) services.push({ name: s.name, status: s });
  const conditions = status.conditions ?? [];
  const stale = app.metadata.generation !== undefined && status.observedGeneration !== undefined && status.observedGeneration < app.metadata.generation;
  const headingId = `app-${app.metadata.name}`;
  return (
    <section className="card" aria-labelledby={headingId} data-testid="app-card">
      <h2 id={headingId}>
        {app.metadata.name}
        <span className="conditions">
          {conditions.map((c) => (
            <ConditionChip key={c.type} condition={c} />
          ))}
        </span>
      </h2>
      <p className="subtitle">
        generation {app.metadata.generation ?? '—'}, observed {status.observedGeneration ?? '—'}
        {stale && ' (the controller has not caught up yet)'}
        {app.metadata.creationTimestamp && (
          <>
            {' '}
            · created <RelativeTime iso={app.metadata.creationTimestamp} now={now} />
          </>
        )}
      </p>
      <h3>Services</h3>
      {services.length === 0 ? (
        <p className="subtitle">No services.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Service</th>
              <th scope="col">Version</th>
              <th scope="col">Image</th>
              <th scope="col" className="num">
                Ready / desired
              </th>
              <th scope="col" className="num">
                Restarts
              </th>
              <th scope="col">Endpoint</th>
            </tr>
          </thead>
          <tbody>
            {services.map((spec) => {
              const s = spec.status;
              const desired = s?.replicas ?? spec.replicas ?? 1;
              const ready = s?.readyReplicas ?? 0;
              return (
                <tr key={spec.name}>
                  <td>{spec.name}</td>
                  <td>{s?.version ?? spec.version ?? '—'}</td>
                  <td className="mono">{spec.image ?? '—'}</td>
                  <td className="num" style={{ color: ready < desired ? 'var(--phase-Failed)' : undefined }}>
                    {ready} / {desired}
                  </td>
                  <td className="num">{s?.restarts ?? 0}</td>
                  <td className="mono">{formatEndpoint(s?.endpoint)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {(status.databases?.length ?? 0) > 0 && (
        <>
          <h3 style={{ marginTop: 12 }}>Databases</h3>
          <table>
            <thead>
              <tr>
                <th scope="col">Database</th>
                <th scope="col">Engine</th>
                <th scope="col">Ready</th>
                <th scope="col">Endpoint</th>
              </tr>
            </thead>
            <tbody>
              {status.databases!.map((db) => (
                <tr key={db.name}>
                  <td>{db.name}</td>
                  <td>{db.engine ?? '—'}</td>
                  <td>{db.ready ? 'yes' : 'no'}</td>
                  <td className="mono">{formatEndpoint(db.endpoint)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      {conditions.length > 0 && (
        <>
          <h3 style={{ marginTop: 12 }}>Conditions</h3>
          <table>
            <thead>
              <tr>
                <th scope="col">Type</th>
                <th scope="col">Status</th>
                <th scope="col">Reason</th>
                <th scope="col">Message</th>
                <th scope="col">Since</th>
              </tr>
            </thead>
            <tbody>
              {conditions.map((c) => (
                <tr key={c.type}>
                  <td>{c.type}</td>
                  <td>{c.status}</td>
                  <td>{c.reason}</td>
                  <td>{c.message}</td>
                  <td>
                    <RelativeTime iso={c.lastTransitionTime} now={now} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}

/** `127.0.0.1:8080`; the API gives `{host, port}` (older servers a string). */
function formatEndpoint(endpoint: Endpoint | string | null | undefined): string {
  if (!endpoint) return '—';
  return typeof endpoint === 'string' ? endpoint : `${endpoint.host}:${endpoint.port}`;
}

/** Condition types where "True" is bad news. */
const NEGATIVE_CONDITIONS = new Set(['Degraded', 'Failed', 'Stalled']);
/** Condition types where "True" is good news; other types (Progressing) are neutral either way. */
const POSITIVE_CONDITIONS = new Set(['Ready', 'Available', 'TestCompleted']);

function conditionTone(c: Condition): 'good' | 'bad' | 'neutral' {
  if (c.status === 'Unknown') return 'neutral';
  if (POSITIVE_CONDITIONS.has(c.type)) return c.status === 'True' ? 'good' : 'bad';
  if (NEGATIVE_CONDITIONS.has(c.type)) return c.status === 'True' ? 'bad' : 'good';
  return 'neutral';
}

/** A condition is met only when it is present with status "True". */
function ConditionChip({ condition }: { condition: Condition }) {
  return (
    <span className={`condition ${conditionTone(condition)}`} title={`${condition.reason}: ${condition.message}`}>
      {condition.type}: {condition.status}
    </span>
  );
}
