import { describe, expect, it } from 'vitest';
import { hostsFile, podHostname, serviceHostNames } from './hosts-file.js';

const svc = (name: string, namespace: string, clusterIP?: string) => ({ metadata: { name, namespace }, spec: clusterIP ? { clusterIP } : {} });

describe('a Pod’s /etc/hosts', () => {
  it('maps the Pod’s hostname to its IP and every Service’s names to its cluster IP, the short name only in the Pod’s namespace', () => {
    const text = hostsFile({ hostname: 'web-1', namespace: 'shop', ip: '127.1.0.9' }, [
      svc('users', 'shop', '127.2.0.5'),
      svc('db', 'other', '127.2.0.6'),
      svc('headless', 'shop', 'None'),
      svc('pending', 'shop'),
    ]);
    const lines = text.trim().split('\n');
    expect(lines).toContain('127.0.0.1\tlocalhost');
    expect(lines).toContain('127.1.0.9\tweb-1');
    expect(lines).toContain('127.2.0.5\tusers.shop.svc.cluster.local users.shop.svc users.shop users');
    expect(lines).toContain('127.2.0.6\tdb.other.svc.cluster.local db.other.svc db.other');
    expect(text).not.toMatch(/headless|pending/);
  });

  it('names a Pod by spec.hostname, else its name; with a subdomain, also by its full name', () => {
    expect(podHostname({ metadata: { name: 'p' }, spec: { hostname: 'h' } })).toBe('h');
    expect(podHostname({ metadata: { name: 'p' } })).toBe('p');
    expect(hostsFile({ hostname: 'db-0', subdomain: 'db', namespace: 'n', ip: '127.1.0.2' }, [])).toContain('127.1.0.2\tdb-0.db.n.svc.cluster.local\tdb-0\n');
    expect(serviceHostNames({ name: 'a', namespace: 'x' }, 'y')).toEqual(['a.x.svc.cluster.local', 'a.x.svc', 'a.x']);
  });
});
