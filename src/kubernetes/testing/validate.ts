/**
 * Validates a manifest against the official Kubernetes OpenAPI schema with a
 * kubernetes-models class (`validate(Pod, pod)`); throws what is wrong, by path.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type ModelClass = new (data: any) => { validate(): void };

export function validate<T>(Model: ModelClass, manifest: T): T {
  new Model(manifest).validate();
  return manifest;
}
