import type { AppSpec, AppStatus, Endpoint, ServiceStatus } from '../core/app.js';

/**
 * Where an App actually runs: local processes (`local/LocalAppRuntime`) on the
 * embedded platform; Deployments and Services on Kubernetes. The App controller
 * drives it from stored specs; it never reads the store itself.
 */
export interface AppRuntime {
  /**
   * Present when the runtime keeps the App's record itself (on Kubernetes: the App
   * resource, which `kubectl` edits too). The controller writes a spec there first and
   * stores the generation it got, so the stored copy and the resource agree.
   */
  readonly records?: AppRecords;
  /** Converges the App to `spec` (level-triggered, idempotent). Resolves once changes are started, not when ready. */
  apply(app: { name: string; generation: number; spec: AppSpec; baseDir: string }): Promise<void>;
  /** The App's live status, or null when this runtime does not run it. */
  status(name: string): AppStatus | null;
  /** Until the service's replicas of the current spec are all ready; rejects with what is not ready. */
  waitReady(app: string, service: string, timeoutMs: number, signal?: AbortSignal): Promise<ServiceStatus>;
  /** Kills one replica (self-healing tests); returns its pid (locally) or its Pod's name (on Kubernetes). */
  kill(app: string, service: string, replica?: number): Promise<{ pid: number | null; pod?: string }>;
  /** Rolling restart of a service. */
  restart(app: string, service: string): Promise<void>;
  /** The last lines of a service's replicas' output. */
  logs(app: string, service: string, options?: { tail?: number }): Promise<string[]>;
  /** Where a service (main port, or the extra port declared as `port`) or database answers. */
  endpoint(app: string, name: string, port?: number): Endpoint | null;
  /** Stops and removes everything of the App, its databases' data included. */
  delete(name: string): Promise<void>;
  /** Stops every App's processes (topas is stopping); data is kept. */
  close(): Promise<void>;
  /** Status changes, for persisting. Returns the unsubscribe function. */
  onStatus(listener: (name: string, status: AppStatus) => void): () => void;
}

/** Where a runtime keeps Apps' specs when it keeps them itself (see `AppRuntime.records`). */
export interface AppRecords {
  /** Creates or updates the App's spec (and labels/annotations); resolves with the generation it has now. */
  write(app: { name: string; spec: AppSpec; labels: Record<string, string>; annotations: Record<string, string> }): Promise<{ generation: number }>;
}
