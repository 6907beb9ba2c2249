/** A banner across every page while the API does not answer its health check. */
import { useQuery } from '@tanstack/react-query';
import { api } from '../api/endpoints';
import { HEALTH_KEY } from '../api/query-client';
import { describeError } from './states';

export function ApiBanner() {
  const health = useQuery({ queryKey: HEALTH_KEY, queryFn: ({ signal }) => api.health(signal), refetchInterval: 5000, retry: 1, retryDelay: 500 });
  if (!health.isError) return null;
  return (
    <div className="banner" role="alert" data-testid="api-banner">
      <span aria-hidden="true">⚠</span>
      <span>
        Cannot reach the topas API at {window.location.origin} — pages show what they last loaded. ({describeError(health.error)}) Retrying every 5 s.
      </span>
    </div>
  );
}
