/**
 * Names that identify things, and so may become URLs, host names, folder names or
 * Kubernetes objects: App names, definition names and ids, run names.
 */
import { got, string, text } from './text.js';

/** A DNS-1123 label: a Kubernetes Service or App name, and a host name in tests. */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const MAX_DNS_LABEL = 63;

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A DNS label naming a `what` (`service`, `database`, `port`). */
export function dnsLabel(what: string) {
  return string()
    .max(MAX_DNS_LABEL, { error: `must be at most ${MAX_DNS_LABEL} characters` })
    .regex(DNS_LABEL, { error: `must be a DNS label (lower-case letters, digits and "-", starting and ending with a letter or digit): the ${what}'s host name in tests` });
}

/**
 * An App's name: a DNS label of at most 63 characters. It names the App's folder
 * under the data folder, so nothing else (no `/`, `..`, NUL) can pass.
 */
export function isAppName(name: string): boolean {
  return name.length <= MAX_DNS_LABEL && DNS_LABEL.test(name);
}

export const AppNameSchema = string()
  .max(MAX_DNS_LABEL, { error: `must be at most ${MAX_DNS_LABEL} characters` })
  .regex(DNS_LABEL, { error: 'must be a DNS label (lower-case letters, digits and "-"), starting and ending with a letter or digit' })
  .meta({ description: 'An App (system under test) name: a DNS label.', example: 'demo' });

export const MAX_DEFINITION_NAME = 200;
const DEFINITION_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export function isDefinitionName(name: string): boolean {
  return name.length <= MAX_DEFINITION_NAME && DEFINITION_NAME.test(name);
}

export const DefinitionNameSchema = text(MAX_DEFINITION_NAME)
  .regex(DEFINITION_NAME, { error: 'must start with a letter or digit and use only letters, digits, ".", "_" and "-"' })
  .meta({ description: 'Unique name; usable instead of the id in URLs.', example: 'checkout-smoke' });

/** A definition id (UUID) or name, as URLs and `definitionId` take it. */
export const DefinitionRefSchema = string().refine((v) => UUID.test(v) || isDefinitionName(v), {
  error: (iss) => `must be a definition id (UUID) or name (letters, digits, ".", "_", "-"; at most ${MAX_DEFINITION_NAME}), got ${got(iss.input)}`,
});

export const MAX_RUN_NAME = 200;
export const RunNameSchema = text(MAX_RUN_NAME);
