/**
 * `pods/log`: a container's log is the file the simulated kubelet writes at
 * `<logDir>/<namespace>/<pod>/<container>.log`. `tailLines` and `limitBytes`
 * cut it; `follow` keeps the response open and streams what is appended until
 * the container (or the Pod) has terminated or the Pod is gone.
 * `previous`, `sinceSeconds` and `timestamps` are not supported (ignored).
 */
import { open, readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import path from 'node:path';
import { badRequest, type JsonObject } from './errors.js';
import type { ObjectService } from './object-service.js';
import type { ResourceType } from './resource-type.js';

export interface LogRequest {
  type: ResourceType;
  namespace: string;
  name: string;
  container?: string;
  follow: boolean;
  tailLines?: number;
  limitBytes?: number;
  logDir: string;
  /** How often a followed log file is checked for new bytes. */
  pollMs: number;
}

function containerState(pod: JsonObject, container: string): JsonObject | undefined {
  const all: JsonObject[] = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  return all.find((s) => s.name === container)?.state;
}

function finished(pod: JsonObject | undefined, uid: string, container: string): boolean {
  if (!pod || pod.metadata.uid !== uid) return true;
  if (['Succeeded', 'Failed'].includes(pod.status?.phase)) return true;
  return containerState(pod, container)?.terminated !== undefined;
}

export async function servePodLog(service: ObjectService, res: ServerResponse, req: LogRequest): Promise<void> {
  const pod = service.get(req.type, req.namespace, req.name);
  const names: string[] = (pod.spec?.containers ?? []).map((c: JsonObject) => c.name);
  const initNames: string[] = (pod.spec?.initContainers ?? []).map((c: JsonObject) => c.name);
  let container = req.container;
  if (!container) {
    if (names.length !== 1) {
      throw badRequest(
        `a container name must be specified for pod ${req.name}, choose one of: [${names.join(' ')}]${initNames.length ? ` or one of the init containers: [${initNames.join(' ')}]` : ''}`,
      );
    }
    container = names[0];
  }
  if (!names.includes(container) && !initNames.includes(container)) throw badRequest(`container ${container} is not valid for pod ${req.name}`);
  const file = path.join(req.logDir, req.namespace, req.name, `${container}.log`);
  let content: Buffer;
  try {
    content = await readFile(file);
  } catch {
    const waiting = containerState(pod, container)?.waiting?.reason ?? (initNames.length && names.includes(container) ? 'PodInitializing' : 'ContainerCreating');
    throw badRequest(`container "${container}" in pod "${req.name}" is waiting to start: ${waiting}`);
  }
  let offset = content.length;
  let out = content;
  if (req.tailLines !== undefined) {
    const lines = content.toString('utf8').split(/(?<=\n)/);
    out = Buffer.from(lines.slice(Math.max(0, lines.length - req.tailLines)).join(''));
  }
  let budget = req.limitBytes ?? Infinity;
  const write = (chunk: Buffer): boolean => {
    const part = chunk.subarray(0, Math.min(chunk.length, budget));
    budget -= part.length;
    if (part.length) res.write(part);
    return budget > 0;
  };
  res.writeHead(200, { 'Content-Type': 'text/plain' });
  if (!write(out) || !req.follow || finished(pod, pod.metadata.uid, container)) return void res.end();

  const uid = pod.metadata.uid;
  const handle = await open(file, 'r');
  let done = false;
  let reading = false;
  const readMore = async (): Promise<boolean> => {
    const { size } = await handle.stat();
    if (size <= offset) return true;
    const buf = Buffer.alloc(size - offset);
    await handle.read(buf, 0, buf.length, offset);
    offset = size;
    return write(buf);
  };
  const tick = async () => {
    if (done || reading) return;
    reading = true;
    try {
      const more = await readMore();
      const current = service.store.get(req.type.storageKey, req.namespace, req.name);
      if (!more || finished(current, uid, container!)) {
        if (more) await readMore();
        stop();
      }
    } finally {
      reading = false;
    }
  };
  const timer = setInterval(() => void tick(), req.pollMs);
  const stop = () => {
    if (done) return;
    done = true;
    clearInterval(timer);
    void handle.close();
    if (!res.writableEnded) res.end();
  };
  res.on('close', stop);
}
