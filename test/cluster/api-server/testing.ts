/**
 * Shared by the API test server's tests: a server with no kubelet, the real
 * kubectl pointed at it, a small HTTP client, and a TestRun-like CRD.
 */
import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startTestCluster, type TestCluster, type TestClusterOptions } from '../start-test-cluster.js';
import type { JsonObject } from './errors.js';

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ApiHarness {
  cluster: TestCluster;
  /** Runs `/usr/bin/kubectl` with the cluster's kubeconfig (and its own discovery cache). */
  kubectl(args: string[], input?: string): Promise<KubectlResult>;
  /** A request to the API (plain HTTP, with the token); the body is parsed when it is JSON. */
  api(method: string, urlPath: string, body?: unknown, contentType?: string): Promise<{ status: number; body: any; headers: Headers }>;
  stop(): Promise<void>;
}

export async function startApiHarness(options: TestClusterOptions = {}): Promise<ApiHarness> {
  const dir = await mkdtemp(path.join(tmpdir(), 'topas-api-test-'));
  const cluster = await startTestCluster({ noKubelet: true, kubeconfigPath: path.join(dir, 'kubeconfig'), logDir: path.join(dir, 'logs'), ...options });
  const cacheDir = path.join(dir, 'kube-cache');
  return {
    cluster,
    kubectl: (args, input) =>
      new Promise((resolve) => {
        const child = execFile(
          '/usr/bin/kubectl',
          [...args, `--cache-dir=${cacheDir}`],
          { env: { ...process.env, KUBECONFIG: cluster.kubeconfigPath, HOME: dir }, timeout: 20_000 },
          (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        );
        if (input !== undefined) child.stdin!.end(input);
      }),
    api: async (method, urlPath, body, contentType = 'application/json') => {
      const res = await fetch(`${cluster.httpUrl}${urlPath}`, {
        method,
        headers: { Authorization: `Bearer ${cluster.token}`, ...(body !== undefined ? { 'Content-Type': contentType } : {}) },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // not JSON (logs, health)
      }
      return { status: res.status, body: parsed, headers: res.headers };
    },
    stop: () => cluster.stop(),
  };
}

/** A CRD shaped like topas's TestRun: status subresource, printer columns, a schema with the usual constraints. */
export function testRunCrd(): JsonObject {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'testruns.topas.dev' },
    spec: {
      group: 'topas.dev',
      scope: 'Namespaced',
      names: { plural: 'testruns', singular: 'testrun', kind: 'TestRun', shortNames: ['tr'], categories: ['topas'] },
      versions: [
        {
          name: 'v1alpha1',
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [
            { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
            { name: 'App', type: 'string', jsonPath: '.spec.appName' },
            { name: 'Passed', type: 'integer', jsonPath: '.status.summary.passed' },
            { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status', priority: 1 },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          ],
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: {
                spec: {
                  type: 'object',
                  required: ['appName'],
                  properties: {
                    appName: { type: 'string', minLength: 1 },
                    script: { type: 'string' },
                    timeout: { type: 'string', pattern: '^[0-9]+(s|m|h)$' },
                    mode: { type: 'string', enum: ['fast', 'full'] },
                    retries: { type: 'integer', minimum: 0, maximum: 5, default: 1 },
                    port: { 'x-kubernetes-int-or-string': true },
                    env: { type: 'object', additionalProperties: { type: 'string' } },
                    extra: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
                  },
                },
                status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
              },
            },
          },
        },
      ],
    },
  };
}

export function testRun(name: string, spec: JsonObject = {}, labels?: Record<string, string>): JsonObject {
  return { apiVersion: 'topas.dev/v1alpha1', kind: 'TestRun', metadata: { name, ...(labels ? { labels } : {}) }, spec: { appName: 'shop', ...spec } };
}

export const testRunsPath = '/apis/topas.dev/v1alpha1/namespaces/default/testruns';
