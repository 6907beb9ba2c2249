/**
 * The dashboard's TanStack Query client. Requests the server refused (4xx) are
 * not retried; an unreachable server makes the health check look again at once,
 * so the banner appears without waiting for its next poll; and a 401 from any
 * request (the session expired, its token was revoked) makes the session be read
 * again, which shows the login page in place of the page the user was on.
 */
import { MutationCache, QueryCache, QueryClient, type QueryKey } from '@tanstack/react-query';
import { ApiError, UnreachableError, isUnauthorized } from './http';

export const HEALTH_KEY = ['health'] as const;
/** `GET /api/session`: who the dashboard is signed in as. Logging in and out are mutations with this key. */
export const SESSION_KEY = ['session'] as const;

export function createQueryClient(): QueryClient {
  // The session's own 401 is the answer the login page waits for, not a sign that it ended.
  const sessionEnded = (error: unknown, key: QueryKey | undefined) => {
    if (isUnauthorized(error) && key?.[0] !== SESSION_KEY[0]) void client.invalidateQueries({ queryKey: SESSION_KEY });
  };
  const client: QueryClient = new QueryClient({
    queryCache: new QueryCache({
      onError: (error, query) => {
        if (error instanceof UnreachableError && query.queryKey[0] !== HEALTH_KEY[0]) void client.invalidateQueries({ queryKey: HEALTH_KEY });
        sessionEnded(error, query.queryKey);
      },
    }),
    mutationCache: new MutationCache({ onError: (error, _vars, _ctx, mutation) => sessionEnded(error, mutation.options.mutationKey) }),
    defaultOptions: {
      queries: {
        staleTime: 2000,
        retry: (failures, error) => !(error instanceof ApiError && error.status < 500) && failures < 2,
        retryDelay: (attempt) => Math.min(4000, 500 * 2 ** attempt),
        refetchOnWindowFocus: true,
      },
      mutations: { retry: false },
    },
  });
  return client;
}
