/** The rendered values of a failed assertion, when the matcher knew them. */
export function ExpectedActual({ expected, actual }: { expected: string | null | undefined; actual: string | null | undefined }) {
  const hasExpected = expected !== null && expected !== undefined;
  const hasActual = actual !== null && actual !== undefined;
  if (!hasExpected && !hasActual) return null;
  return (
    <dl>
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
