import { describe, expect, it } from 'vitest';
import { ruleAllows } from './rbac-authorizer.js';
import { requestAttributes } from './request-attributes.js';

const attrs = (method: string, path: string) => requestAttributes(method, new URL(path, 'http://x'));

describe('request attributes, as kube-apiserver derives them from a request', () => {
  it('names the verb from the method and whether a name is given', () => {
    expect(attrs('GET', '/api/v1/namespaces/a/pods')).toMatchObject({ resourceRequest: true, verb: 'list', namespace: 'a', resource: 'pods', name: '' });
    expect(attrs('GET', '/api/v1/namespaces/a/pods/p')).toMatchObject({ verb: 'get', name: 'p' });
    expect(attrs('GET', '/api/v1/pods?watch=true')).toMatchObject({ verb: 'watch', namespace: '' });
    expect(attrs('GET', '/api/v1/watch/namespaces/a/pods')).toMatchObject({ verb: 'watch', namespace: 'a', resource: 'pods' });
    expect(attrs('DELETE', '/api/v1/namespaces/a/pods')).toMatchObject({ verb: 'deletecollection' });
    expect(attrs('DELETE', '/api/v1/namespaces/a/pods/p')).toMatchObject({ verb: 'delete' });
    expect(attrs('PATCH', '/apis/topas.dev/v1alpha1/namespaces/a/testruns/t/status')).toMatchObject({ verb: 'patch', apiGroup: 'topas.dev', resource: 'testruns', subresource: 'status', name: 't' });
    expect(attrs('POST', '/api/v1/namespaces/a/serviceaccounts/s/token')).toMatchObject({ verb: 'create', resource: 'serviceaccounts', subresource: 'token' });
    expect(attrs('GET', '/api/v1/namespaces/a/pods/p/log')).toMatchObject({ verb: 'get', subresource: 'log' });
  });

  it('treats a Namespace as in itself, and a metadata.name field selector as naming the object', () => {
    expect(attrs('GET', '/api/v1/namespaces/a')).toMatchObject({ resource: 'namespaces', name: 'a', namespace: 'a' });
    expect(attrs('PUT', '/api/v1/namespaces/a/finalize')).toMatchObject({ resource: 'namespaces', name: 'a', subresource: 'finalize' });
    expect(attrs('GET', '/api/v1/namespaces/a/secrets?fieldSelector=metadata.name%3Ds')).toMatchObject({ verb: 'list', name: 's' });
  });

  it('makes discovery, /version and health non-resource requests', () => {
    for (const p of ['/api', '/api/v1', '/apis', '/apis/apps', '/apis/apps/v1', '/version', '/healthz', '/openapi/v3']) {
      expect(attrs('GET', p)).toMatchObject({ resourceRequest: false, verb: 'get', path: p });
    }
  });
});

describe('an RBAC rule', () => {
  const rule = (r: object) => ({ verbs: ['get'], apiGroups: [''], ...r });
  it('matches resources, subresources, wildcards and names as rbac/v1 does', () => {
    const log = attrs('GET', '/api/v1/namespaces/a/pods/p/log');
    expect(ruleAllows(rule({ resources: ['pods'] }), log)).toBe(false);
    expect(ruleAllows(rule({ resources: ['pods/log'] }), log)).toBe(true);
    expect(ruleAllows(rule({ resources: ['*/log'] }), log)).toBe(true);
    expect(ruleAllows(rule({ resources: ['*'] }), log)).toBe(true);
    expect(ruleAllows(rule({ resources: ['pods/log'], resourceNames: ['q'] }), log)).toBe(false);
    expect(ruleAllows(rule({ resources: ['pods/log'], apiGroups: ['apps'] }), log)).toBe(false);
    expect(ruleAllows({ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }, attrs('DELETE', '/apis/apps/v1/namespaces/a/deployments'))).toBe(true);
    expect(ruleAllows({ verbs: ['get'], nonResourceURLs: ['/apis/*'] }, attrs('GET', '/apis/apps/v1'))).toBe(true);
    expect(ruleAllows({ verbs: ['get'], nonResourceURLs: ['/apis'] }, attrs('GET', '/apis/apps'))).toBe(false);
  });
});
