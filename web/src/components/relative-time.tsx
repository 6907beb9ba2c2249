import { formatDateTime, formatRelative } from '../lib/format';

/** "5 min ago", with the exact local time on hover and for machines. */
export function RelativeTime({ iso, now }: { iso: string | null; now: number }) {
  if (!iso) return <span>—</span>;
  return (
    <time dateTime={iso} title={formatDateTime(iso)}>
      {formatRelative(iso, now)}
    </time>
  );
}
