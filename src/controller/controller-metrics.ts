/**
 * Prometheus metrics of the Kubernetes side: reconciles by controller and result
 * (as controller-runtime's `controller_runtime_reconcile_total`), and Kubernetes
 * API requests by verb and resource (as client-go's `rest_client_requests_total`).
 */
import { Counter, Histogram, type Registry } from 'prom-client';

export type ReconcileOutcome = 'success' | 'requeue' | 'error' | 'terminal';

export class ControllerMetrics {
  readonly reconciles: Counter<'controller' | 'result'>;
  readonly reconcileSeconds: Histogram<'controller'>;
  readonly kubeRequests: Counter<'verb' | 'resource' | 'code'>;

  constructor(registry: Registry) {
    this.reconciles = new Counter({
      name: 'topas_reconcile_total',
      help: 'Reconciles by controller and result (success, requeue, error, terminal).',
      labelNames: ['controller', 'result'],
      registers: [registry],
    });
    this.reconcileSeconds = new Histogram({
      name: 'topas_reconcile_duration_seconds',
      help: 'Time one reconcile took, by controller.',
      labelNames: ['controller'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    });
    this.kubeRequests = new Counter({
      name: 'topas_kube_requests_total',
      help: 'Kubernetes API requests by verb (get, list, watch, create, update, patch, delete), resource and HTTP status code.',
      labelNames: ['verb', 'resource', 'code'],
      registers: [registry],
    });
  }

  observeReconcile(controller: string, result: ReconcileOutcome, seconds: number): void {
    this.reconciles.inc({ controller, result });
    this.reconcileSeconds.observe({ controller }, seconds);
  }

  observeRequest(verb: string, resource: string, code: number | string): void {
    this.kubeRequests.inc({ verb, resource, code: String(code) });
  }
}
