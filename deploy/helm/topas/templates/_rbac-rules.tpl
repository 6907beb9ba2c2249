{{- /*
RBAC rules of the topas controller, generated from src/kubernetes/manifests/rbac.ts.
Do not edit: regenerate with
  UPDATE_DEPLOY=1 npx vitest run src/kubernetes/deploy-files.test.ts
*/ -}}
{{- define "topas.controllerRules" -}}
- apiGroups:
    - topas.dev
  resources:
    - testruns
  verbs:
    - get
    - list
    - watch
    - update
    - patch
    - delete
- apiGroups:
    - topas.dev
  resources:
    - testruns/status
  verbs:
    - get
    - update
    - patch
- apiGroups:
    - topas.dev
  resources:
    - testruns/finalizers
  verbs:
    - update
- apiGroups:
    - ""
  resources:
    - pods
  verbs:
    - get
    - list
    - watch
    - create
    - delete
- apiGroups:
    - ""
  resources:
    - pods/log
  verbs:
    - get
- apiGroups:
    - ""
  resources:
    - configmaps
  verbs:
    - get
    - list
    - create
    - delete
- apiGroups:
    - ""
  resources:
    - secrets
  verbs:
    - get
    - create
    - delete
- apiGroups:
    - ""
    - events.k8s.io
  resources:
    - events
  verbs:
    - create
    - patch
- apiGroups:
    - topas.dev
  resources:
    - apps
  verbs:
    - get
    - list
    - watch
    - create
    - update
    - patch
    - delete
- apiGroups:
    - topas.dev
  resources:
    - apps/status
  verbs:
    - get
    - update
    - patch
- apiGroups:
    - topas.dev
  resources:
    - apps/finalizers
  verbs:
    - update
- apiGroups:
    - apps
  resources:
    - deployments
    - statefulsets
  verbs:
    - get
    - list
    - watch
    - create
    - update
    - patch
    - delete
- apiGroups:
    - ""
  resources:
    - services
  verbs:
    - get
    - list
    - watch
    - create
    - update
    - patch
    - delete
- apiGroups:
    - batch
  resources:
    - jobs
  verbs:
    - get
    - list
    - watch
    - create
    - delete
- apiGroups:
    - ""
  resources:
    - persistentvolumeclaims
  verbs:
    - get
    - list
    - watch
- apiGroups:
    - ""
  resources:
    - secrets
    - configmaps
  verbs:
    - update
    - patch
{{- end }}
{{- define "topas.leaderElectionRules" -}}
- apiGroups:
    - coordination.k8s.io
  resources:
    - leases
  verbs:
    - create
- apiGroups:
    - coordination.k8s.io
  resources:
    - leases
  verbs:
    - get
    - update
    - patch
  resourceNames:
    - topas-controller
{{- end }}
