/**
 * apps/v1 Deployments and ReplicaSets as kube-apiserver's registry strategy
 * treats them: defaults (replicas 1; for Deployments strategy RollingUpdate with
 * maxSurge/maxUnavailable 25%, revisionHistoryLimit 10, progressDeadlineSeconds
 * 600; the Pod template gets a PodSpec's defaults), validation with the real
 * wording (a selector is required, must not be empty, must match the template's
 * labels and cannot change; the template's restartPolicy must be Always;
 * replicas ≥ 0), and an empty status on create. `metadata.generation` is bumped
 * by the object service (the status is a subresource).
 */
import { defaultPodSpec, podTemplateErrors } from './builtin-kinds.js';
import { invalidValue, notSupported, required, type FieldError, type JsonObject } from './errors.js';
import type { ResourceType } from './resource-type.js';

/** A `metav1.LabelSelector`. */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/** Whether `labels` match `selector` (an empty selector matches everything, as `metav1.LabelSelectorAsSelector` makes it). */
export function selectorMatches(selector: LabelSelector | undefined, labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  for (const [k, v] of Object.entries(selector?.matchLabels ?? {})) if (l[k] !== v) return false;
  for (const e of selector?.matchExpressions ?? []) {
    const has = Object.hasOwn(l, e.key);
    const values = e.values ?? [];
    if (e.operator === 'In' && !(has && values.includes(l[e.key]!))) return false;
    if (e.operator === 'NotIn' && has && values.includes(l[e.key]!)) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

/** A selector in its string form (`app=web,tier in (a,b)`), as a Scale's `status.selector` carries it. */
export function selectorString(selector: LabelSelector | undefined): string {
  const parts = Object.entries(selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of selector?.matchExpressions ?? []) {
    const values = [...(e.values ?? [])].sort().join(',');
    if (e.operator === 'In') parts.push(`${e.key} in (${values})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${values})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
  }
  return parts.sort().join(',');
}

function isEmptySelector(selector: LabelSelector): boolean {
  return Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0;
}

/** Go's `%#v` of a `map[string]string`, as the selector-mismatch message shows the template's labels. */
function goStringMap(map: Record<string, string> | undefined): string {
  if (!map) return 'map[string]string(nil)';
  const entries = Object.keys(map)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${JSON.stringify(map[k])}`);
  return `map[string]string{${entries.join(', ')}}`;
}

/** Go's `%#v` of a `metav1.LabelSelector` (roughly), as the "empty selector" and "immutable" messages show it. */
function goSelector(selector: LabelSelector | undefined): string {
  const labels = selector?.matchLabels ? goStringMap(selector.matchLabels) : 'map[string]string(nil)';
  const exprs = selector?.matchExpressions?.length
    ? `[]v1.LabelSelectorRequirement{${selector.matchExpressions.map((e) => `v1.LabelSelectorRequirement{Key:${JSON.stringify(e.key)}, Operator:${JSON.stringify(e.operator)}, Values:[]string{${(e.values ?? []).map((v) => JSON.stringify(v)).join(', ')}}}`).join(', ')}}`
    : '[]v1.LabelSelectorRequirement(nil)';
  return `v1.LabelSelector{MatchLabels:${labels}, MatchExpressions:${exprs}}`;
}

function defaultIntOrPercent(value: unknown): unknown {
  return value === undefined ? '25%' : value;
}

/** Applies the defaults of a Deployment or ReplicaSet (in place) and returns its field errors; `old` is the stored object on an update. */
export function prepareAppsKind(type: ResourceType, obj: JsonObject, old: JsonObject | undefined): FieldError[] {
  const deployment = type.plural === 'deployments';
  const spec = (obj.spec ??= {});
  spec.replicas ??= 1;
  if (deployment) {
    spec.strategy ??= {};
    spec.strategy.type ??= 'RollingUpdate';
    if (spec.strategy.type === 'RollingUpdate') {
      spec.strategy.rollingUpdate ??= {};
      spec.strategy.rollingUpdate.maxUnavailable = defaultIntOrPercent(spec.strategy.rollingUpdate.maxUnavailable);
      spec.strategy.rollingUpdate.maxSurge = defaultIntOrPercent(spec.strategy.rollingUpdate.maxSurge);
    }
    spec.revisionHistoryLimit ??= 10;
    spec.progressDeadlineSeconds ??= 600;
  }
  const template = spec.template;
  if (template && typeof template === 'object') {
    template.metadata ??= {};
    // Go's zero time (`kubectl rollout undo` sends it): nothing, as in the templates stored here.
    if (template.metadata.creationTimestamp === null) delete template.metadata.creationTimestamp;
    if (template.spec && typeof template.spec === 'object') defaultPodSpec(template.spec);
  }
  if (!old) obj.status = {};
  return appsErrors(type, obj, old);
}

function appsErrors(type: ResourceType, obj: JsonObject, old: JsonObject | undefined): FieldError[] {
  const kind = type.plural === 'deployments' ? 'deployment' : 'replicaset';
  const spec = obj.spec;
  const errors: FieldError[] = [];
  if (typeof spec.replicas === 'number' && spec.replicas < 0) errors.push(invalidValue('spec.replicas', spec.replicas, 'must be greater than or equal to 0'));
  const selector: LabelSelector | undefined = spec.selector;
  if (!selector) errors.push(required('spec.selector'));
  else if (isEmptySelector(selector)) errors.push({ type: 'FieldValueInvalid', field: 'spec.selector', detail: `Invalid value: ${goSelector(selector)}: empty selector is invalid for ${kind}` });
  const labels = spec.template?.metadata?.labels;
  // No selector matches nothing (`LabelSelectorAsSelector(nil)`), so the template's labels are reported too; an empty one matches everything.
  if (!selector || (!isEmptySelector(selector) && !selectorMatches(selector, labels))) {
    errors.push({ type: 'FieldValueInvalid', field: 'spec.template.metadata.labels', detail: `Invalid value: ${goStringMap(labels)}: \`selector\` does not match template \`labels\`` });
  }
  if (!spec.template) errors.push(required('spec.template'));
  else {
    errors.push(...podTemplateErrors(spec.template.spec, 'spec.template.spec').filter((e) => e.field !== 'spec.template.spec.restartPolicy'));
    const policy = spec.template.spec?.restartPolicy;
    if (policy !== 'Always') errors.push(notSupported('spec.template.spec.restartPolicy', policy, ['Always']));
  }
  if (type.plural === 'deployments') {
    const strategy = spec.strategy;
    if (!['RollingUpdate', 'Recreate'].includes(strategy.type)) errors.push(notSupported('spec.strategy.type', strategy.type, ['Recreate', 'RollingUpdate']));
    if (strategy.type === 'Recreate' && strategy.rollingUpdate) errors.push({ type: 'FieldValueForbidden', field: 'spec.strategy.rollingUpdate', detail: 'Forbidden: may not be specified when strategy `type` is \'Recreate\'' });
    const ru = strategy.rollingUpdate;
    if (strategy.type === 'RollingUpdate' && ru && isZero(ru.maxSurge) && isZero(ru.maxUnavailable)) {
      errors.push(invalidValue('spec.strategy.rollingUpdate.maxUnavailable', ru.maxUnavailable, 'may not be 0 when `maxSurge` is 0'));
    }
  }
  if (old && JSON.stringify(old.spec?.selector) !== JSON.stringify(spec.selector)) {
    errors.push({ type: 'FieldValueInvalid', field: 'spec.selector', detail: `Invalid value: ${goSelector(spec.selector)}: field is immutable` });
  }
  return errors;
}

function isZero(value: unknown): boolean {
  return value === 0 || value === '0%' || value === '0';
}

/**
 * An int-or-percent (`maxSurge`, `maxUnavailable`) resolved against `total`,
 * rounding up or down as `intstr.GetScaledValueFromIntOrPercent` is asked to.
 */
export function resolveIntOrPercent(value: unknown, total: number, roundUp: boolean): number {
  if (typeof value === 'number') return value;
  const text = String(value ?? '0');
  if (!text.endsWith('%')) return Number.parseInt(text, 10) || 0;
  const scaled = (Number.parseInt(text, 10) * total) / 100;
  return roundUp ? Math.ceil(scaled) : Math.floor(scaled);
}
