import { describe, expect, it } from 'vitest';
import { desiredSlices, desiredSubsets } from './endpoints-controller.js';

const service = { metadata: { name: 'web', namespace: 'n' }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }] } };
const pod = (name: string, ip: string | undefined, over: { ready?: boolean; deleting?: boolean; port?: number; app?: string; phase?: string } = {}) => ({
  metadata: { name, namespace: 'n', uid: `uid-${name}`, labels: { app: over.app ?? 'web' }, ...(over.deleting ? { deletionTimestamp: 'x' } : {}) },
  spec: { nodeName: 'node', containers: [{ name: 'c', ports: [{ name: 'http', containerPort: over.port ?? 8080 }] }] },
  status: { phase: over.phase ?? 'Running', podIP: ip, conditions: [{ type: 'Ready', status: over.ready === false ? 'False' : 'True' }] },
});

describe('endpoints of a Service', () => {
  it('lists the selected Pods with an IP, resolving named target ports, grouped by port mapping, with ready/serving/terminating', () => {
    const slices = desiredSlices(service, [
      pod('a', '127.1.0.1'),
      pod('b', '127.1.0.2', { ready: false }),
      pod('c', '127.1.0.3', { deleting: true }),
      pod('d', '127.1.0.4', { port: 9090 }),
      pod('e', undefined),
      pod('f', '127.1.0.6', { app: 'other' }),
      pod('g', '127.1.0.7', { phase: 'Succeeded' }),
    ]);
    expect(slices.map((s) => s.ports)).toEqual([[{ name: 'http', port: 8080, protocol: 'TCP' }], [{ name: 'http', port: 9090, protocol: 'TCP' }]]);
    expect(slices[0]!.endpoints.map((e) => [e.addresses[0], e.conditions])).toEqual([
      ['127.1.0.1', { ready: true, serving: true, terminating: false }],
      ['127.1.0.2', { ready: false, serving: false, terminating: false }],
      ['127.1.0.3', { ready: false, serving: true, terminating: true }],
    ]);
    const subsets = desiredSubsets(slices);
    expect(subsets[0]).toMatchObject({ addresses: [{ ip: '127.1.0.1' }], notReadyAddresses: [{ ip: '127.1.0.2' }], ports: [{ name: 'http', port: 8080 }] });
    expect(subsets[1]).toMatchObject({ addresses: [{ ip: '127.1.0.4' }], ports: [{ port: 9090 }] });
  });

  it('is one empty slice and no subsets when no Pod is selected', () => {
    const slices = desiredSlices(service, []);
    expect(slices).toEqual([{ ports: [], endpoints: [] }]);
    expect(desiredSubsets(slices)).toEqual([]);
  });
});
