/** A run's or definition's labels as `key=value` chips. */
export function Labels({ labels, max }: { labels: Record<string, string>; max?: number }) {
  const entries = Object.entries(labels);
  if (!entries.length) return <span className="subtitle">—</span>;
  const shown = max === undefined ? entries : entries.slice(0, max);
  return (
    <span className="chips">
      {shown.map(([k, v]) => (
        <span key={k} className="chip" title={`${k}=${v}`}>
          {k}={v}
        </span>
      ))}
      {shown.length < entries.length && <span className="chip">+{entries.length - shown.length}</span>}
    </span>
  );
}
