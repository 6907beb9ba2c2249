/**
 * Short forms of ids for people. Ids are UUIDv7: their first 8 hex digits are the
 * creation time in units of 65.5 s, so ids made in the same minute (a batch of
 * runs, the definitions stored at start-up) share them. The short form is the
 * shortest prefix, at least `min` characters, that no other id shown beside it
 * shares; the CLI accepts it back wherever it takes an id.
 */
export function shortIds(ids: readonly string[], min = 8): Map<string, string> {
  const sorted = [...new Set(ids)].sort();
  const short = new Map<string, string>();
  // In sorted order an id shares its longest prefix with a neighbour.
  sorted.forEach((id, i) => {
    const common = Math.max(commonPrefix(id, sorted[i - 1]), commonPrefix(id, sorted[i + 1]));
    let n = Math.max(min, common + 1);
    // Do not end on a dash: `0190f3c2-` reads as cut off; take the next digit too.
    if (id[n - 1] === '-') n++;
    short.set(id, id.slice(0, Math.min(n, id.length)));
  });
  return new Map(ids.map((id) => [id, short.get(id)!]));
}

function commonPrefix(a: string, b: string | undefined): number {
  if (b === undefined) return 0;
  let n = 0;
  while (n < a.length && n < b.length && a[n] === b[n]) n++;
  return n;
}
