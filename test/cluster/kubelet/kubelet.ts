/**
 * The simulated kubelet of the test cluster (STUB — being written; see the header
 * it will get). It is a client of the test API server over HTTP, like a real kubelet:
 * it watches Pods, runs their containers as local processes, and writes Pod status.
 */
import type { ImageTable } from './images.js';

export interface SimulatedKubeletOptions {
  /** The API server's base URL, e.g. http://127.0.0.1:6443. */
  apiUrl: string;
  /** Bearer token the API server accepts. */
  token: string;
  /** Where container logs go: `<logDir>/<namespace>/<pod>/<container>.log` (the API server serves pods/log from there). */
  logDir: string;
  /** Which images this kubelet can "pull", and the host commands they provide. */
  images: ImageTable;
}

export class SimulatedKubelet {
  constructor(readonly options: SimulatedKubeletOptions) {}
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
}
