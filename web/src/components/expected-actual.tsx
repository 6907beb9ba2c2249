/**
 * The rendered values of a failed assertion, when the matcher knew them, and its
 * differences (an `expect` table diff: one per line).
 */
export function ExpectedActual({
  expected,
  actual,
  differences = [],
}: {
  expected: string | null | undefined;
  actual: string | null | undefined;
  differences?: readonly string[];
}) {
  const hasExpected = expected !== null && expected !== undefined;
  const hasActual = actual !== null && actual !== undefined;
  if (!hasExpected && !hasActual && differences.length === 0) return null;
  return (
    <dl>
      {differences.length > 0 && (
        <>
          <dt>differences</dt>
          <dd>
            <ul className="differences" aria-label="Differences">
              {differences.map((line, i) => (
                <li key={i}>{line}</li>
              ))}
            </ul>
          </dd>
        </>
      )}
      {hasExpected && (
        <>
          <dt>expected</dt>
          <dd>{expected}</dd>
        </>
      )}
      {hasActual && (
        <>
          <dt>actual</dt>
          <dd>{actual}</dd>
        </>
      )}
    </dl>
  );
}
