import { execFile } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { JsonObject } from './errors.js';
import { startApiHarness, testRun, testRunCrd, type ApiHarness, type KubectlResult } from './testing.js';

const SA = 'system:serviceaccount:topas:topas';

describe('RBAC in the API test server', () => {
  let h: ApiHarness;
  let saKubeconfig: string;
  let saToken: string;

  /** kubectl as the ServiceAccount topas/topas. */
  const kubectlAsSa = (args: string[], input?: string): Promise<KubectlResult> =>
    new Promise((resolve) => {
      const dir = path.dirname(saKubeconfig);
      const child = execFile(
        '/usr/bin/kubectl',
        [...args, `--cache-dir=${path.join(dir, 'sa-kube-cache')}`],
        { env: { ...process.env, KUBECONFIG: saKubeconfig, HOME: dir }, timeout: 20_000 },
        (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
      if (input !== undefined) child.stdin!.end(input);
    });

  /** A request with a given token (plain HTTP). */
  const apiAs = async (token: string, method: string, urlPath: string, body?: unknown, contentType = 'application/json') => {
    const res = await fetch(`${h.cluster.httpUrl}${urlPath}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, ...(body !== undefined ? { 'Content-Type': contentType } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: any = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // logs
    }
    return { status: res.status, body: parsed };
  };

  const role = (name: string, namespace: string, rules: JsonObject[]) => ({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name, namespace }, rules });
  const roleBinding = (name: string, namespace: string, roleKind: string, roleName: string) => ({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name, namespace },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: roleKind, name: roleName },
    subjects: [{ kind: 'ServiceAccount', name: 'topas', namespace: 'topas' }],
  });
  const yaml = (...objects: JsonObject[]) => objects.map((o) => stringify(o)).join('---\n');

  beforeAll(async () => {
    h = await startApiHarness();
    saKubeconfig = await h.cluster.writeServiceAccountKubeconfig('topas', 'topas');
    saToken = h.cluster.server.serviceAccountToken('topas', 'topas');
    expect((await h.api('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', testRunCrd())).status).toBe(201);
  });
  afterAll(() => h?.stop());

  it('denies a ServiceAccount with no binding, with kube-apiserver’s 403, then allows it after a Role and RoleBinding (kubectl get, kubectl auth can-i)', async () => {
    const denied = await kubectlAsSa(['get', 'pods', '-n', 'default']);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain(`Error from server (Forbidden): pods is forbidden: User "${SA}" cannot list resource "pods" in API group "" in the namespace "default"`);
    const canI = await kubectlAsSa(['auth', 'can-i', 'list', 'pods', '-n', 'default']);
    expect(canI).toMatchObject({ code: 1, stdout: 'no\n' });

    const applied = await h.kubectl(['apply', '-f', '-'], yaml(role('pod-reader', 'default', [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] }]), roleBinding('topas-reads-pods', 'default', 'Role', 'pod-reader')));
    expect(applied.stderr).toBe('');
    expect(applied.stdout).toContain('role.rbac.authorization.k8s.io/pod-reader created');
    expect(applied.stdout).toContain('rolebinding.rbac.authorization.k8s.io/topas-reads-pods created');

    const allowed = await kubectlAsSa(['get', 'pods', '-n', 'default']);
    expect(allowed).toMatchObject({ code: 0, stderr: 'No resources found in default namespace.\n' });
    expect(await kubectlAsSa(['auth', 'can-i', 'list', 'pods', '-n', 'default'])).toMatchObject({ code: 0, stdout: 'yes\n' });
    expect(await kubectlAsSa(['auth', 'can-i', 'watch', 'pods', '-n', 'default'])).toMatchObject({ code: 0, stdout: 'yes\n' });
    expect(await kubectlAsSa(['auth', 'can-i', 'delete', 'pods', '-n', 'default'])).toMatchObject({ code: 1, stdout: 'no\n' });
    // A RoleBinding grants only in its own namespace.
    expect(await kubectlAsSa(['auth', 'can-i', 'list', 'pods', '-n', 'kube-system'])).toMatchObject({ code: 1, stdout: 'no\n' });
    const elsewhere = await kubectlAsSa(['get', 'pods', '-n', 'kube-system']);
    expect(elsewhere.stderr).toContain(`pods is forbidden: User "${SA}" cannot list resource "pods" in API group "" in the namespace "kube-system"`);

    // The admin sees the RBAC objects as kubectl shows them.
    const roles = await h.kubectl(['get', 'roles,rolebindings', '-n', 'default', '-o', 'wide']);
    expect(roles.stdout).toMatch(/role\.rbac\.authorization\.k8s\.io\/pod-reader\s+\d{4}-\d\d-\d\dT/);
    expect(roles.stdout).toMatch(/rolebinding\.rbac\.authorization\.k8s\.io\/topas-reads-pods\s+Role\/pod-reader\s+\S+\s+topas\/topas/);
    expect((await h.kubectl(['auth', 'whoami'])).stdout).toMatch(/Username\s+kubernetes-admin/);
    expect((await kubectlAsSa(['auth', 'whoami'])).stdout).toMatch(new RegExp(`Username\\s+${SA}[\\s\\S]*system:serviceaccounts:topas`));
  });

  it('answers a denied request with the Status body kube-apiserver sends', async () => {
    const res = await apiAs(saToken, 'GET', '/api/v1/namespaces/default/secrets/db');
    expect(res).toEqual({
      status: 403,
      body: {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: `secrets "db" is forbidden: User "${SA}" cannot get resource "secrets" in API group "" in the namespace "default"`,
        reason: 'Forbidden',
        details: { name: 'db', kind: 'secrets' },
        code: 403,
      },
    });
    const crd = await apiAs(saToken, 'DELETE', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/testruns.topas.dev');
    expect(crd.body.message).toBe(
      `customresourcedefinitions.apiextensions.k8s.io "testruns.topas.dev" is forbidden: User "${SA}" cannot delete resource "customresourcedefinitions" in API group "apiextensions.k8s.io" at the cluster scope`,
    );
    expect(crd.body.details).toEqual({ name: 'testruns.topas.dev', group: 'apiextensions.k8s.io', kind: 'customresourcedefinitions' });
    // Non-resource paths: discovery and /version are open to every authenticated user; others are not.
    expect((await apiAs(saToken, 'GET', '/apis')).status).toBe(200);
    expect((await apiAs(saToken, 'GET', '/version')).status).toBe(200);
    expect((await apiAs(saToken, 'GET', '/openapi/v3')).status).toBe(200);
    const metrics = await apiAs(saToken, 'GET', '/metrics');
    expect(metrics).toMatchObject({ status: 403, body: { message: `forbidden: User "${SA}" cannot get path "/metrics"`, reason: 'Forbidden', details: {} } });
    // No token or an unknown one: 401, as before.
    expect((await apiAs('nope', 'GET', '/api/v1/pods')).status).toBe(401);
  });

  it('a ClusterRoleBinding grants in every namespace and at the cluster scope; a binding to a missing role says so', async () => {
    const before = await kubectlAsSa(['get', 'configmaps', '-A']);
    expect(before.stderr).toContain(`configmaps is forbidden: User "${SA}" cannot list resource "configmaps" in API group "" at the cluster scope`);
    const missing = await h.kubectl(['apply', '-f', '-'], yaml(roleBinding('dangling', 'default', 'Role', 'not-there')));
    expect(missing.code).toBe(0);
    const dangling = await kubectlAsSa(['get', 'configmaps', '-n', 'default']);
    expect(dangling.stderr).toContain(
      `configmaps is forbidden: User "${SA}" cannot list resource "configmaps" in API group "" in the namespace "default": RBAC: role.rbac.authorization.k8s.io "not-there" not found`,
    );

    const applied = await h.kubectl(
      ['apply', '-f', '-'],
      yaml(
        { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'configmap-reader' }, rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list'] }] },
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'ClusterRoleBinding',
          metadata: { name: 'topas-reads-configmaps' },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'configmap-reader' },
          subjects: [{ kind: 'Group', name: 'system:serviceaccounts:topas' }],
        },
      ),
    );
    expect(applied.code).toBe(0);
    expect((await kubectlAsSa(['get', 'configmaps', '-A'])).code).toBe(0);
    expect((await kubectlAsSa(['get', 'configmaps', '-n', 'kube-public'])).code).toBe(0);
    expect(await kubectlAsSa(['auth', 'can-i', 'list', 'configmaps', '--all-namespaces'])).toMatchObject({ stdout: 'yes\n' });
    expect(await kubectlAsSa(['auth', 'can-i', 'list', 'namespaces'])).toMatchObject({ stdout: 'no\n' });
    const crbs = await h.kubectl(['get', 'clusterrolebindings', '-o', 'wide']);
    expect(crbs.stdout).toMatch(/topas-reads-configmaps\s+ClusterRole\/configmap-reader\s+\S+\s+system:serviceaccounts:topas/);
    expect(crbs.stdout).toMatch(/cluster-admin\s+ClusterRole\/cluster-admin\s+\S+\s+system:masters/);
    expect((await h.kubectl(['get', 'clusterrole', 'system:discovery'])).stdout).toMatch(/system:discovery\s+\d{4}-/);
    expect((await h.kubectl(['delete', 'rolebinding', 'dangling', '-n', 'default'])).code).toBe(0);
    expect((await apiAs(saToken, 'GET', '/api/v1/namespaces/default/secrets')).body.message).toBe(
      `secrets is forbidden: User "${SA}" cannot list resource "secrets" in API group "" in the namespace "default"`,
    );
  });

  it('resourceNames limit a rule to the objects named; a list is not a get of each', async () => {
    await h.api('POST', '/api/v1/namespaces/topas/secrets', { metadata: { name: 'mine' }, stringData: { a: 'b' } });
    await h.api('POST', '/api/v1/namespaces/topas/secrets', { metadata: { name: 'theirs' }, stringData: { a: 'b' } });
    await h.kubectl(['apply', '-f', '-'], yaml(role('one-secret', 'topas', [{ apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list', 'watch'], resourceNames: ['mine'] }]), roleBinding('one-secret', 'topas', 'Role', 'one-secret')));
    expect((await kubectlAsSa(['get', 'secret', 'mine', '-n', 'topas', '-o', 'name'])).stdout).toBe('secret/mine\n');
    const theirs = await kubectlAsSa(['get', 'secret', 'theirs', '-n', 'topas']);
    expect(theirs.stderr).toContain(`secrets "theirs" is forbidden: User "${SA}" cannot get resource "secrets" in API group "" in the namespace "topas"`);
    expect((await kubectlAsSa(['get', 'secrets', '-n', 'topas'])).stderr).toContain('cannot list resource "secrets"');
    // A list or watch selecting the one name by field selector is that name's.
    expect((await apiAs(saToken, 'GET', '/api/v1/namespaces/topas/secrets?fieldSelector=metadata.name%3Dmine')).body.items.map((s: JsonObject) => s.metadata.name)).toEqual(['mine']);
    expect(await kubectlAsSa(['auth', 'can-i', 'get', 'secret/mine', '-n', 'topas'])).toMatchObject({ stdout: 'yes\n' });
    expect(await kubectlAsSa(['auth', 'can-i', 'get', 'secret/theirs', '-n', 'topas'])).toMatchObject({ stdout: 'no\n' });
  });

  it('subresources are their own resources: testruns/status, pods/log; watches are checked as watch', async () => {
    expect((await h.api('POST', '/apis/topas.dev/v1alpha1/namespaces/topas/testruns', testRun('r1'))).status).toBe(201);
    await h.api('POST', '/api/v1/namespaces/topas/pods', { metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'busybox:1' }] } });
    await h.kubectl(
      ['apply', '-f', '-'],
      yaml(
        role('status-writer', 'topas', [
          { apiGroups: ['topas.dev'], resources: ['testruns/status'], verbs: ['patch'] },
          { apiGroups: [''], resources: ['pods/log'], verbs: ['get'] },
        ]),
        roleBinding('status-writer', 'topas', 'Role', 'status-writer'),
      ),
    );
    const status = await apiAs(saToken, 'PATCH', '/apis/topas.dev/v1alpha1/namespaces/topas/testruns/r1/status', { status: { phase: 'Running' } }, 'application/merge-patch+json');
    expect(status.status).toBe(200);
    expect(status.body.status.phase).toBe('Running');
    const main = await apiAs(saToken, 'PATCH', '/apis/topas.dev/v1alpha1/namespaces/topas/testruns/r1', { spec: { mode: 'fast' } }, 'application/merge-patch+json');
    expect(main.body.message).toBe(`testruns.topas.dev "r1" is forbidden: User "${SA}" cannot patch resource "testruns" in API group "topas.dev" in the namespace "topas"`);
    const log = await apiAs(saToken, 'GET', '/api/v1/namespaces/topas/pods/p/log');
    expect(log.status).not.toBe(403);
    expect((await kubectlAsSa(['get', 'pod', 'p', '-n', 'topas'])).stderr).toContain(`pods "p" is forbidden: User "${SA}" cannot get resource "pods" in API group "" in the namespace "topas"`);
    expect(await kubectlAsSa(['auth', 'can-i', 'get', 'pods', '--subresource=log', '-n', 'topas'])).toMatchObject({ stdout: 'yes\n' });

    const watch = await apiAs(saToken, 'GET', '/apis/topas.dev/v1alpha1/namespaces/topas/testruns?watch=true');
    expect(watch.body.message).toBe(`testruns.topas.dev is forbidden: User "${SA}" cannot watch resource "testruns" in API group "topas.dev" in the namespace "topas"`);
    const logOther = await apiAs(saToken, 'GET', '/api/v1/namespaces/default/pods/p/log');
    expect(logOther.body.message).toBe(`pods "p" is forbidden: User "${SA}" cannot get resource "pods/log" in API group "" in the namespace "default"`);
  });

  it('kubectl create token makes a token for a ServiceAccount that authenticates as it, until the ServiceAccount is deleted', async () => {
    expect((await h.kubectl(['create', 'serviceaccount', 'ci', '-n', 'topas'])).code).toBe(0);
    const created = await h.kubectl(['create', 'token', 'ci', '-n', 'topas', '--duration=20m']);
    expect(created.stderr).toBe('');
    const token = created.stdout.trim();
    const review = await apiAs(token, 'POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });
    expect(review.body.status.userInfo).toMatchObject({ username: 'system:serviceaccount:topas:ci', groups: ['system:serviceaccounts', 'system:serviceaccounts:topas', 'system:authenticated'] });
    expect((await apiAs(saToken, 'POST', '/api/v1/namespaces/topas/serviceaccounts/ci/token', { spec: {} })).body.message).toBe(
      `serviceaccounts "ci" is forbidden: User "${SA}" cannot create resource "serviceaccounts/token" in API group "" in the namespace "topas"`,
    );
    expect((await h.kubectl(['delete', 'serviceaccount', 'ci', '-n', 'topas'])).code).toBe(0);
    expect((await apiAs(token, 'GET', '/api')).status).toBe(401);
  });

  it('kubectl create role/rolebinding (protobuf bodies), auth can-i --list, and impersonation with --as', async () => {
    expect((await h.kubectl(['create', 'role', 'lease-holder', '-n', 'topas', '--verb=get,update', '--resource=leases.coordination.k8s.io', '--resource-name=topas'])).stderr).toBe('');
    expect((await h.kubectl(['create', 'rolebinding', 'lease-holder', '-n', 'topas', '--role=lease-holder', '--serviceaccount=topas:topas'])).stderr).toBe('');
    const list = await kubectlAsSa(['auth', 'can-i', '--list', '-n', 'topas']);
    expect(list.stdout).toMatch(/leases\.coordination\.k8s\.io\s+\[\]\s+\[topas\]\s+\[get update\]/);
    expect(list.stdout).toMatch(/selfsubjectaccessreviews\.authorization\.k8s\.io\s+\[\]\s+\[\]\s+\[create\]/);
    expect(await h.kubectl(['auth', 'can-i', 'update', 'leases/topas', '-n', 'topas', `--as=${SA}`])).toMatchObject({ stdout: 'yes\n' });
    expect(await h.kubectl(['auth', 'can-i', 'update', 'leases/other', '-n', 'topas', `--as=${SA}`])).toMatchObject({ stdout: 'no\n' });
    const asAdmin = await kubectlAsSa(['get', 'pods', '-n', 'kube-system', '--as=kubernetes-admin', '--as-group=system:masters']);
    expect(asAdmin.stderr).toContain(`users "kubernetes-admin" is forbidden: User "${SA}" cannot impersonate resource "users" in API group "" at the cluster scope`);
  });

  it('a user may grant only what it holds, unless it may escalate or bind', async () => {
    await h.kubectl(
      ['apply', '-f', '-'],
      yaml(role('rbac-writer', 'topas', [{ apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles', 'rolebindings'], verbs: ['create', 'get', 'update', 'patch'] }]), roleBinding('rbac-writer', 'topas', 'Role', 'rbac-writer')),
    );
    const tooMuch = await kubectlAsSa(['create', 'role', 'too-much', '-n', 'topas', '--verb=get,delete', '--resource=pods']);
    expect(tooMuch.stderr).toContain(
      `roles.rbac.authorization.k8s.io "too-much" is forbidden: user "${SA}" (groups=["system:serviceaccounts" "system:serviceaccounts:topas" "system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[""], Resources:["pods"], Verbs:["get" "delete"]}`,
    );
    // What it holds (configmaps, through its ClusterRoleBinding) it may hand on.
    expect((await kubectlAsSa(['create', 'role', 'cm-reader', '-n', 'topas', '--verb=get,list', '--resource=configmaps'])).stderr).toBe('');
    expect((await kubectlAsSa(['create', 'rolebinding', 'cm-reader', '-n', 'topas', '--role=cm-reader', '--serviceaccount=topas:ci'])).stderr).toBe('');
    const admin = await kubectlAsSa(['create', 'rolebinding', 'admin', '-n', 'topas', '--clusterrole=cluster-admin', '--serviceaccount=topas:topas']);
    expect(admin.stderr).toContain('is attempting to grant RBAC permissions not currently held:\n{APIGroups:["*"], Resources:["*"], Verbs:["*"]}');
    // The bind verb on a role lets it bind that role without holding it.
    await h.kubectl(['apply', '-f', '-'], yaml(role('binder', 'topas', [{ apiGroups: ['rbac.authorization.k8s.io'], resources: ['clusterroles'], verbs: ['bind'], resourceNames: ['cluster-admin'] }]), roleBinding('binder', 'topas', 'Role', 'binder')));
    expect((await kubectlAsSa(['create', 'rolebinding', 'admin', '-n', 'topas', '--clusterrole=cluster-admin', '--serviceaccount=topas:topas'])).stderr).toBe('');
    expect(await kubectlAsSa(['auth', 'can-i', 'delete', 'pods', '-n', 'topas'])).toMatchObject({ stdout: 'yes\n' });
  });

  it('validates RBAC objects as kube-apiserver does', async () => {
    const bad = await h.kubectl(['apply', '-f', '-'], yaml(role('urls', 'default', [{ nonResourceURLs: ['/metrics'], verbs: ['get'] }])));
    expect(bad.stderr).toContain('rules[0].nonResourceURLs: Invalid value: []string{"/metrics"}: namespaced rules cannot apply to non-resource URLs');
    const noVerbs = await h.kubectl(['apply', '-f', '-'], yaml(role('no-verbs', 'default', [{ apiGroups: [''], resources: ['pods'], verbs: [] }])));
    expect(noVerbs.stderr).toContain('rules[0].verbs: Required value: verbs must contain at least one value');
    const changed = await h.kubectl(['apply', '-f', '-'], yaml(roleBinding('topas-reads-pods', 'default', 'ClusterRole', 'configmap-reader')));
    expect(changed.stderr).toContain('roleRef: Invalid value: rbac.RoleRef{APIGroup:"rbac.authorization.k8s.io", Kind:"ClusterRole", Name:"configmap-reader"}: cannot change roleRef');
    const wrongKind = await h.api('POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
      metadata: { name: 'x' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pod-reader' },
      subjects: [{ kind: 'ServiceAccount', name: 'topas' }],
    });
    expect(wrongKind.body.message).toBe(
      'ClusterRoleBinding.rbac.authorization.k8s.io "x" is invalid: [roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole", subjects[0].namespace: Required value]',
    );
  });
});
