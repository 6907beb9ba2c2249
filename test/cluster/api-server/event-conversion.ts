/**
 * events.k8s.io/v1 and core/v1 Events are one resource stored once (in the core
 * form), as on the real server: an Event written through either API is read
 * through both, so `kubectl describe` (core/v1) shows events a controller
 * records with the events.k8s.io API.
 */
import type { JsonObject } from './errors.js';

function defined(obj: JsonObject): JsonObject {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined));
}

/** events.k8s.io/v1 → core/v1. */
export function eventToCore(e: JsonObject): JsonObject {
  return defined({
    apiVersion: 'v1',
    kind: 'Event',
    metadata: e.metadata,
    involvedObject: e.regarding ?? {},
    related: e.related,
    message: e.note,
    reason: e.reason,
    type: e.type,
    action: e.action,
    eventTime: e.eventTime,
    reportingComponent: e.reportingController ?? '',
    reportingInstance: e.reportingInstance ?? '',
    series: e.series,
    source: e.deprecatedSource,
    count: e.deprecatedCount,
    firstTimestamp: e.deprecatedFirstTimestamp,
    lastTimestamp: e.deprecatedLastTimestamp,
  });
}

/** core/v1 → events.k8s.io/v1. */
export function eventFromCore(e: JsonObject): JsonObject {
  return defined({
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    metadata: e.metadata,
    regarding: e.involvedObject,
    related: e.related,
    note: e.message,
    reason: e.reason,
    type: e.type,
    action: e.action,
    eventTime: e.eventTime ?? null,
    reportingController: e.reportingComponent,
    reportingInstance: e.reportingInstance,
    series: e.series,
    deprecatedSource: e.source,
    deprecatedCount: e.count,
    deprecatedFirstTimestamp: e.firstTimestamp,
    deprecatedLastTimestamp: e.lastTimestamp,
  });
}

/** events.k8s.io field selector names → the stored (core) field. */
export function eventFieldToCore(field: string): string {
  if (field.startsWith('regarding.')) return `involvedObject.${field.slice('regarding.'.length)}`;
  if (field === 'reportingController') return 'reportingComponent';
  return field;
}
