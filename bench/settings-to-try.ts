/**
 * Settings a bench child tries instead of a default: `BENCH_TOPAS_X=v` in the bench's
 * environment becomes `TOPAS_X=v` in the child's configuration, so an A/B of a setting
 * runs through the bench while the user's own `TOPAS_*` variables never reach it.
 */
export function settingsToTry(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  return Object.fromEntries(Object.entries(env).flatMap(([k, v]) => (k.startsWith('BENCH_TOPAS_') && v !== undefined ? [[k.slice('BENCH_'.length), v]] : [])));
}
