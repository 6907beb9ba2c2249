/**
 * Defaults and validation of the workload and storage kinds the test cluster's
 * controllers act on — apps/v1 StatefulSets, batch/v1 Jobs, core/v1
 * PersistentVolumeClaims — as kube-apiserver's defaulting and registry strategies
 * do what clients notice: the defaulted fields, the generated Job selector and
 * labels, a Pod template's defaults, the immutable parts of each spec (422 with
 * kube's wording), the default StorageClass an admission plugin would set.
 */
import { defaultPodSpec, podTemplateErrors } from './builtin-kinds.js';
import { forbidden, invalidValue, notSupported, required, type FieldError, type JsonObject } from './errors.js';
import { isEmptySelector, matchesLabelSelector } from './label-selector.js';
import type { ResourceType } from './resource-type.js';

/** The StorageClass a claim without one gets (`DefaultStorageClass` admission, as on kind's `standard`). */
export const DEFAULT_STORAGE_CLASS = 'standard';

/** Label keys of the selector the server generates for a Job (`manualSelector` unset). */
export const JOB_LABELS = {
  controllerUid: 'batch.kubernetes.io/controller-uid',
  legacyControllerUid: 'controller-uid',
  jobName: 'batch.kubernetes.io/job-name',
  legacyJobName: 'job-name',
} as const;

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/** Applies the kind's defaults to `obj` (in place) and returns its field errors; `old` is the stored object on an update. */
export function prepareWorkload(type: ResourceType, obj: JsonObject, old: JsonObject | undefined): FieldError[] {
  switch (`${type.group}/${type.plural}`) {
    case 'apps/statefulsets':
      return prepareStatefulSet(obj, old);
    case 'batch/jobs':
      return prepareJob(obj, old);
    case '/persistentvolumeclaims':
      return preparePvc(obj, old);
  }
  return [];
}

function templateErrors(spec: JsonObject, kind: string): FieldError[] {
  const errors: FieldError[] = [];
  if (!spec.template) return [required('spec.template')];
  if (!spec.selector) errors.push(required('spec.selector'));
  else if (isEmptySelector(spec.selector)) errors.push(invalidValue('spec.selector', spec.selector, `empty selector is invalid for ${kind}`));
  else if (!matchesLabelSelector(spec.selector, spec.template.metadata?.labels)) {
    errors.push(invalidValue('spec.template.metadata.labels', spec.template.metadata?.labels ?? {}, '`selector` does not match template `labels`'));
  }
  return errors;
}

function defaultClaimSpec(spec: JsonObject): void {
  spec.volumeMode ??= 'Filesystem';
}

function prepareStatefulSet(obj: JsonObject, old: JsonObject | undefined): FieldError[] {
  const spec = (obj.spec ??= {});
  spec.replicas ??= 1;
  spec.podManagementPolicy ??= 'OrderedReady';
  spec.updateStrategy ??= { type: 'RollingUpdate' };
  if (spec.updateStrategy.type === 'RollingUpdate') spec.updateStrategy.rollingUpdate = { partition: 0, ...(spec.updateStrategy.rollingUpdate ?? {}) };
  spec.revisionHistoryLimit ??= 10;
  spec.persistentVolumeClaimRetentionPolicy = { whenDeleted: 'Retain', whenScaled: 'Retain', ...(spec.persistentVolumeClaimRetentionPolicy ?? {}) };
  if (spec.template) defaultPodSpec((spec.template.spec ??= {}));
  for (const claim of spec.volumeClaimTemplates ?? []) {
    claim.apiVersion ??= 'v1';
    claim.kind ??= 'PersistentVolumeClaim';
    defaultClaimSpec((claim.spec ??= {}));
    claim.status ??= { phase: 'Pending' };
  }
  if (!old) obj.status = { replicas: 0, availableReplicas: 0 };
  const errors = templateErrors(spec, 'statefulset');
  if (spec.template) {
    // A claim template's name is a volume the Pods get.
    const claimVolumes = (spec.volumeClaimTemplates ?? []).map((c: JsonObject) => ({ name: c.metadata?.name, emptyDir: {} }));
    const podSpec = { ...spec.template.spec, volumes: [...(spec.template.spec?.volumes ?? []), ...claimVolumes] };
    errors.push(...podTemplateErrors(podSpec, 'spec.template.spec').filter((e) => !e.field.endsWith('restartPolicy')));
    if (spec.template.spec?.restartPolicy !== 'Always') errors.push(notSupported('spec.template.spec.restartPolicy', spec.template.spec?.restartPolicy, ['Always']));
  }
  if (typeof spec.replicas === 'number' && spec.replicas < 0) errors.push(invalidValue('spec.replicas', spec.replicas, 'must be greater than or equal to 0'));
  if (!['OrderedReady', 'Parallel'].includes(spec.podManagementPolicy)) errors.push(notSupported('spec.podManagementPolicy', spec.podManagementPolicy, ['OrderedReady', 'Parallel']));
  if (!['RollingUpdate', 'OnDelete'].includes(spec.updateStrategy.type)) errors.push(notSupported('spec.updateStrategy.type', spec.updateStrategy.type, ['OnDelete', 'RollingUpdate']));
  if (old) {
    const mutable = ['replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy', 'minReadySeconds'];
    const rest = (s: JsonObject) => Object.fromEntries(Object.entries(s ?? {}).filter(([k]) => !mutable.includes(k)));
    if (!sameJson(sortKeys(rest(spec)), sortKeys(rest(old.spec)))) {
      errors.push(
        forbidden(
          'spec',
          "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
        ),
      );
    }
  }
  return errors;
}

function prepareJob(obj: JsonObject, old: JsonObject | undefined): FieldError[] {
  const spec = (obj.spec ??= {});
  if (spec.completions === undefined && spec.parallelism === undefined) {
    spec.completions = 1;
    spec.parallelism = 1;
  }
  spec.parallelism ??= 1;
  spec.backoffLimit ??= 6;
  spec.completionMode ??= 'NonIndexed';
  spec.suspend ??= false;
  spec.podReplacementPolicy ??= spec.podFailurePolicy ? 'Failed' : 'TerminatingOrFailed';
  if (spec.template) defaultPodSpec((spec.template.spec ??= {}));
  const uid: string = obj.metadata.uid;
  if (!old && spec.manualSelector !== true && spec.template) {
    // The generated selector (`generateSelector` in kube's Job strategy).
    const labels = (spec.template.metadata ??= {}).labels ?? {};
    labels[JOB_LABELS.legacyJobName] ??= obj.metadata.name;
    labels[JOB_LABELS.jobName] ??= obj.metadata.name;
    labels[JOB_LABELS.legacyControllerUid] ??= uid;
    labels[JOB_LABELS.controllerUid] ??= uid;
    spec.template.metadata.labels = labels;
    spec.selector ??= {};
    spec.selector.matchLabels = { ...(spec.selector.matchLabels ?? {}) };
    spec.selector.matchLabels[JOB_LABELS.controllerUid] ??= uid;
  }
  // A Job without labels shows its template's (kube defaults them on every read).
  if (Object.keys(obj.metadata.labels ?? {}).length === 0 && spec.template?.metadata?.labels) obj.metadata.labels = { ...spec.template.metadata.labels };
  if (!old) obj.status = {};
  const errors = templateErrors(spec, 'job');
  if (spec.template) {
    errors.push(...podTemplateErrors(spec.template.spec, 'spec.template.spec').filter((e) => !e.field.endsWith('restartPolicy')));
    const policy = spec.template.spec?.restartPolicy;
    if (policy !== 'OnFailure' && policy !== 'Never') errors.push(notSupported('spec.template.spec.restartPolicy', policy, ['OnFailure', 'Never']));
    if (spec.manualSelector !== true && !old) {
      const labels = spec.template.metadata?.labels ?? {};
      if (labels[JOB_LABELS.controllerUid] !== uid) errors.push(invalidValue(`spec.template.metadata.labels[${JOB_LABELS.controllerUid}]`, labels[JOB_LABELS.controllerUid], `must be '${uid}'`));
    }
  }
  for (const field of ['parallelism', 'completions', 'backoffLimit', 'activeDeadlineSeconds', 'ttlSecondsAfterFinished']) {
    if (typeof spec[field] === 'number' && spec[field] < 0) errors.push(invalidValue(`spec.${field}`, spec[field], 'must be greater than or equal to 0'));
  }
  if (!['NonIndexed', 'Indexed'].includes(spec.completionMode)) errors.push(notSupported('spec.completionMode', spec.completionMode, ['NonIndexed', 'Indexed']));
  if (old) {
    if (!sameJson(sortKeys(spec.template), sortKeys(old.spec?.template))) errors.push(invalidValue('spec.template', spec.template, 'field is immutable'));
    if (!sameJson(sortKeys(spec.selector), sortKeys(old.spec?.selector))) errors.push(invalidValue('spec.selector', spec.selector, 'field is immutable'));
    if (spec.completions !== old.spec?.completions) errors.push(invalidValue('spec.completions', spec.completions, 'field is immutable'));
    if (spec.completionMode !== old.spec?.completionMode) errors.push(invalidValue('spec.completionMode', spec.completionMode, 'field is immutable'));
  }
  return errors;
}

function preparePvc(obj: JsonObject, old: JsonObject | undefined): FieldError[] {
  const spec = (obj.spec ??= {});
  defaultClaimSpec(spec);
  if (!old) {
    if (spec.storageClassName === undefined && !obj.metadata.annotations?.['volume.beta.kubernetes.io/storage-class']) spec.storageClassName = DEFAULT_STORAGE_CLASS;
    obj.status = { phase: 'Pending' };
  }
  const errors: FieldError[] = [];
  if (!Array.isArray(spec.accessModes) || spec.accessModes.length === 0) errors.push(required('spec.accessModes', 'at least 1 access mode is required'));
  for (const [i, mode] of (spec.accessModes ?? []).entries()) {
    if (!['ReadWriteOnce', 'ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOncePod'].includes(mode)) {
      errors.push(notSupported(`spec.accessModes[${i}]`, mode, ['ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOncePod']));
    }
  }
  if (!spec.resources?.requests?.storage) errors.push(required('spec.resources[storage]'));
  if (old) {
    // Immutable but for a larger request and the binder's `volumeName`.
    const mask = (s: JsonObject | undefined, volumeName: string | undefined) => {
      const m = structuredClone(s ?? {});
      delete m.resources?.requests;
      if (!volumeName) delete m.volumeName;
      delete m.volumeAttributesClassName;
      return sortKeys(m);
    };
    if (!sameJson(mask(spec, old.spec?.volumeName), mask(old.spec, old.spec?.volumeName))) {
      errors.push(forbidden('spec', 'spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims'));
    }
  }
  return errors;
}

/** A copy with object keys sorted, so two JSON values compare by content. */
function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.keys(value)
      .filter((k) => (value as JsonObject)[k] !== undefined)
      .sort()
      .map((k) => [k, sortKeys((value as JsonObject)[k])]),
  );
}
