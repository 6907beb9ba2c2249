/**
 * A test script may name the App it targets in its header comment — `-- app: demo`
 * among the first comment lines — so `topas test schedule --script x.lua` and the
 * bundled examples need no `--app`. An explicit App (flag, API field) wins.
 */
export function appNameFromHeader(script: string): string | null {
  for (const line of script.split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '') continue;
    if (!trimmed.startsWith('--')) break;
    const m = /^--\s*app:\s*([a-z0-9]([-a-z0-9]*[a-z0-9])?)\s*$/.exec(trimmed);
    if (m) return m[1]!;
  }
  return null;
}
