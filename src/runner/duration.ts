/** Renders milliseconds for messages: `5s`, `1.5s`, `250ms`, `2m`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${Number((ms / 1000).toFixed(3))}s`;
}

/** Renders a byte count for messages: `64 MiB`. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1 << 30 && bytes % (1 << 30) === 0) return `${bytes / (1 << 30)} GiB`;
  if (bytes >= 1 << 20) return `${Number((bytes / (1 << 20)).toFixed(1))} MiB`;
  if (bytes >= 1 << 10) return `${Number((bytes / (1 << 10)).toFixed(1))} KiB`;
  return `${bytes} bytes`;
}
