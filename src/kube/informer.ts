/**
 * A list+watch cache of one kind (client-go's informer): lists, then watches from
 * the list's resourceVersion, keeps the objects by `namespace/name`, and calls
 * handlers on add/update/delete. It never gives up: a dropped or failed watch is
 * resumed from the last resourceVersion seen, a `410 Gone` re-lists (and reports
 * the differences as events), and any other error retries with back-off.
 * (`@kubernetes/client-node` 1.4's informer stops after errors other than 410.)
 */
import { errorField, silentLogger, type Logger } from '../core/logger.js';
import { isGone, type KubeApi, type KubeObject, type ResourceType } from './kube-api.js';

export type InformerHandler<T extends KubeObject> = (type: 'add' | 'update' | 'delete', object: T) => void;

export interface InformerOptions {
  /** Only this namespace (default: all). */
  namespace?: string;
  labelSelector?: string;
  /** Longest back-off between failed attempts. Default 5 s. */
  maxBackoffMs?: number;
  /** Server-side watch timeout, after which the watch is resumed. Default 300 s. */
  watchTimeoutSeconds?: number;
  log?: Logger;
}

export const objectKey = (o: KubeObject): string => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;

export class Informer<T extends KubeObject> {
  private readonly objects = new Map<string, T>();
  private readonly handlers: InformerHandler<T>[] = [];
  private readonly controller = new AbortController();
  private resourceVersion = '';
  private syncedResolve!: () => void;
  /** Resolves once the first list is in the cache. */
  readonly synced = new Promise<void>((r) => (this.syncedResolve = r));
  private loop: Promise<void> | null = null;
  private readonly log: Logger;

  constructor(
    private readonly api: KubeApi,
    readonly type: ResourceType,
    private readonly options: InformerOptions = {},
  ) {
    this.log = options.log ?? silentLogger;
  }

  /** Adds a handler; returns the function that removes it. */
  on(handler: InformerHandler<T>): () => void {
    this.handlers.push(handler);
    return () => {
      const i = this.handlers.indexOf(handler);
      if (i >= 0) this.handlers.splice(i, 1);
    };
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.objects.get(`${namespace ?? ''}/${name}`);
  }

  list(): T[] {
    return [...this.objects.values()];
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.controller.abort();
    await this.loop;
  }

  private async run(): Promise<void> {
    const signal = this.controller.signal;
    let failures = 0;
    let needList = true;
    while (!signal.aborted) {
      try {
        if (needList) {
          await this.relist();
          needList = false;
          this.syncedResolve();
        }
        await this.api.watch<T>(
          this.type,
          this.options.namespace,
          {
            resourceVersion: this.resourceVersion,
            allowWatchBookmarks: true,
            timeoutSeconds: this.options.watchTimeoutSeconds ?? 300,
            ...(this.options.labelSelector ? { labelSelector: this.options.labelSelector } : {}),
          },
          (e) => {
            failures = 0;
            const rv = e.object?.metadata?.resourceVersion;
            if (rv) this.resourceVersion = rv;
            if (e.type === 'BOOKMARK') return;
            if (e.type === 'DELETED') this.remove(e.object);
            else this.put(e.object);
          },
          signal,
        );
      } catch (error) {
        if (signal.aborted) return;
        if (isGone(error)) {
          needList = true;
          continue;
        }
        failures++;
        if ((failures & (failures - 1)) === 0) this.log('warn', 'watch failed; retrying', { resource: this.type.resource, error: errorField(error), failures });
        await sleep(Math.min(this.options.maxBackoffMs ?? 5000, 100 * 2 ** Math.min(failures, 10)), signal);
      }
    }
  }

  private async relist(): Promise<void> {
    const list = await this.api.list<T>(this.type, this.options.namespace, this.options.labelSelector ? { labelSelector: this.options.labelSelector } : {});
    const seen = new Set<string>();
    for (const item of list.items) {
      // List items may omit apiVersion/kind; watch events carry them.
      item.apiVersion ??= this.type.apiVersion;
      item.kind ??= this.type.kind;
      seen.add(objectKey(item));
      this.put(item);
    }
    for (const [key, old] of this.objects) if (!seen.has(key)) this.remove(old);
    this.resourceVersion = list.metadata.resourceVersion;
  }

  private put(object: T): void {
    const key = objectKey(object);
    const old = this.objects.get(key);
    if (old && old.metadata.resourceVersion === object.metadata.resourceVersion) return;
    this.objects.set(key, object);
    this.emit(old ? 'update' : 'add', object);
  }

  private remove(object: T): void {
    const key = objectKey(object);
    const last = this.objects.get(key) ?? object;
    this.objects.delete(key);
    this.emit('delete', last);
  }

  private emit(type: 'add' | 'update' | 'delete', object: T): void {
    for (const h of this.handlers) {
      try {
        h(type, object);
      } catch (error) {
        this.log('error', 'informer handler failed', { resource: this.type.resource, error: errorField(error) });
      }
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(t);
      resolve();
    };
    // The listener goes with the timer: a long outage must not pile listeners up on the signal.
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
