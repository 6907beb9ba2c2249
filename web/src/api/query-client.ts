/**
 * The dashboard's TanStack Query client. Requests the server refused (4xx) are
 * not retried; an unreachable server makes the health check look again at once,
 * so the banner appears without waiting for its next poll.
 */
import { QueryCache, QueryClient } from '@tanstack/react-query';
import { ApiError, UnreachableError } from './http';

export const HEALTH_KEY = ['health'] as const;

export function createQueryClient(): QueryClient {
  const client: QueryClient = new QueryClient({
    queryCache: new QueryCache({
      onError: (error, query) => {
        if (error instanceof UnreachableError && query.queryKey[0] !== HEALTH_KEY[0]) void client.invalidateQueries({ queryKey: HEALTH_KEY });
      },
    }),
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
