import type { FieldIssue } from './errors.js';
import { MAX_TIMEOUT_SECONDS } from './run.js';

/** Env names as a shell accepts them. */
const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Kubernetes label key (optional DNS prefix + name) and value rules. */
const LABEL_NAME = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$/;
const LABEL_PREFIX = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
/** An App name: a Kubernetes object name (DNS-1123 subdomain). */
const DNS_1123 = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export const MAX_SCRIPT_BYTES = 1024 * 1024;
/** Limits of a run's bundled files. */
export const MAX_BUNDLE_FILES = 500;
export const MAX_BUNDLE_BYTES = 5 * 1024 * 1024;

/** A bundled file path: relative, `/`-separated, no `..`, no empty or hidden-dot segments like `./`. */
export function isBundlePath(path: string): boolean {
  if (path.length === 0 || path.length > 512 || path.startsWith('/') || path.includes('\\') || path.includes('\0')) return false;
  return path.split('/').every((seg) => seg !== '' && seg !== '.' && seg !== '..');
}

export function checkFiles(issues: FieldIssue[], field: string, files: unknown): void {
  if (files === undefined) return;
  if (!isPlainObject(files)) {
    issues.push({ field, message: 'must be an object of "relative/path": "content" pairs' });
    return;
  }
  const entries = Object.entries(files);
  if (entries.length > MAX_BUNDLE_FILES) issues.push({ field, message: `must hold at most ${MAX_BUNDLE_FILES} files, got ${entries.length}` });
  let bytes = 0;
  for (const [path, content] of entries) {
    if (!isBundlePath(path)) issues.push({ field: `${field}.${path}`, message: 'must be a relative path inside the test folder (no leading /, no ..)' });
    if (typeof content !== 'string') issues.push({ field: `${field}.${path}`, message: 'must be the file content as a string' });
    else bytes += Buffer.byteLength(content);
  }
  if (bytes > MAX_BUNDLE_BYTES) issues.push({ field, message: `must total at most ${MAX_BUNDLE_BYTES} bytes, got ${bytes}` });
}
export const MAX_NAME_LENGTH = 200;

export function checkEnv(issues: FieldIssue[], field: string, env: unknown): void {
  if (env === undefined) return;
  if (!isPlainObject(env)) {
    issues.push({ field, message: 'must be an object of NAME: "value" pairs' });
    return;
  }
  for (const [k, v] of Object.entries(env)) {
    if (!ENV_KEY.test(k)) issues.push({ field: `${field}.${k}`, message: 'is not a valid variable name (letters, digits, _; not starting with a digit)' });
    if (typeof v !== 'string') issues.push({ field: `${field}.${k}`, message: 'must be a string' });
  }
}

export function checkLabels(issues: FieldIssue[], field: string, labels: unknown): void {
  if (labels === undefined) return;
  if (!isPlainObject(labels)) {
    issues.push({ field, message: 'must be an object of key: "value" pairs' });
    return;
  }
  for (const [k, v] of Object.entries(labels)) {
    const slash = k.indexOf('/');
    const prefix = slash >= 0 ? k.slice(0, slash) : null;
    const name = slash >= 0 ? k.slice(slash + 1) : k;
    const keyOk =
      name.length > 0 && name.length <= 63 && LABEL_NAME.test(name) && (prefix === null || (prefix.length <= 253 && LABEL_PREFIX.test(prefix)));
    if (!keyOk) issues.push({ field: `${field}.${k}`, message: 'is not a valid label key (like app.kubernetes.io/name: up to 63 letters, digits, -_.)' });
    if (typeof v !== 'string') issues.push({ field: `${field}.${k}`, message: 'must be a string' });
    else if (v.length > 63 || !LABEL_VALUE.test(v))
      issues.push({ field: `${field}.${k}`, message: 'is not a valid label value (up to 63 letters, digits, -_., starting and ending alphanumeric)' });
  }
}

export function checkTimeout(issues: FieldIssue[], field: string, value: unknown): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_TIMEOUT_SECONDS)
    issues.push({ field, message: `must be an integer from 1 to ${MAX_TIMEOUT_SECONDS} (seconds)` });
}

export function checkScript(issues: FieldIssue[], field: string, value: unknown): void {
  if (typeof value !== 'string' || value.trim() === '') issues.push({ field, message: 'must be non-empty Lua source text' });
  else if (Buffer.byteLength(value) > MAX_SCRIPT_BYTES) issues.push({ field, message: `must be at most ${MAX_SCRIPT_BYTES} bytes` });
}

export function checkName(issues: FieldIssue[], field: string, value: unknown, required: boolean): void {
  if (value === undefined && !required) return;
  if (typeof value !== 'string' || value.trim() === '') issues.push({ field, message: 'must be a non-empty string' });
  else if (value.length > MAX_NAME_LENGTH) issues.push({ field, message: `must be at most ${MAX_NAME_LENGTH} characters` });
}

export function checkAppName(issues: FieldIssue[], field: string, value: unknown): void {
  if (value === undefined || value === null) return;
  if (typeof value !== 'string' || value.length > 253 || !DNS_1123.test(value))
    issues.push({ field, message: 'must be a Kubernetes object name (lowercase letters, digits, - and .)' });
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
