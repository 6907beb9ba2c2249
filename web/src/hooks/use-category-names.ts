import { useQuery } from '@tanstack/react-query';
import { useMemo } from 'react';
import { api } from '../api/endpoints';
import { DEFAULT_CATEGORY } from '../../../src/core/categories';

/** The category names the rules can give (and the default), for filters; just the default until the rules load (or if they cannot). */
export function useCategoryNames(): string[] {
  const rules = useQuery({ queryKey: ['categories'], queryFn: ({ signal }) => api.categories(signal), retry: false, staleTime: 60_000 });
  return useMemo(() => {
    const names = [DEFAULT_CATEGORY];
    for (const r of rules.data?.rules ?? []) if (!names.includes(r.category)) names.push(r.category);
    return names;
  }, [rules.data]);
}
