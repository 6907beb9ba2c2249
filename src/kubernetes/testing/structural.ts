/**
 * Checks that an `openAPIV3Schema` is structural, as the API server does before it
 * accepts a CRD (k8s.io/apiextensions-apiserver `pkg/apiserver/schema`): every node
 * that is not `x-kubernetes-int-or-string` or `x-kubernetes-preserve-unknown-fields`
 * has a `type`; `properties` and `additionalProperties` are not given together; inside
 * `anyOf`/`allOf`/`oneOf`/`not` only value validations appear (the int-or-string
 * `anyOf: [{type: integer}, {type: string}]` excepted); the root's `metadata` only
 * restricts nothing; no `$ref`. Returns the problems, by path.
 */
type Node = Record<string, unknown>;

const VALUE_ONLY_FORBIDDEN = ['description', 'type', 'default', 'additionalProperties', 'nullable', 'x-kubernetes-preserve-unknown-fields', 'x-kubernetes-int-or-string', 'x-kubernetes-embedded-resource'];

export function structuralProblems(schema: Node): string[] {
  const problems: string[] = [];
  walk(schema, '', problems, true);
  return problems;
}

function walk(node: Node, path: string, problems: string[], root = false): void {
  const at = path || '(root)';
  if ('$ref' in node) problems.push(`${at}: $ref is not allowed`);
  const intOrString = node['x-kubernetes-int-or-string'] === true;
  const preserve = node['x-kubernetes-preserve-unknown-fields'] === true;
  if (!node.type && !intOrString && !preserve) problems.push(`${at}: has no type`);
  if (node.properties && node.additionalProperties !== undefined && node.additionalProperties !== false)
    problems.push(`${at}: properties and additionalProperties together`);
  if (node.additionalProperties === false) problems.push(`${at}: additionalProperties: false is not allowed`);
  for (const key of ['anyOf', 'allOf', 'oneOf'] as const) {
    const branches = node[key] as Node[] | undefined;
    if (!branches) continue;
    const isIntOrStringAnyOf =
      intOrString && key === 'anyOf' && branches.length === 2 && branches[0]!.type === 'integer' && branches[1]!.type === 'string' && branches.every((b) => Object.keys(b).length === 1);
    if (isIntOrStringAnyOf) continue;
    branches.forEach((b, i) => {
      for (const f of VALUE_ONLY_FORBIDDEN) if (f in b) problems.push(`${at}.${key}[${i}]: ${f} is not allowed in a value validation`);
    });
  }
  if (root) {
    const metadata = (node.properties as Record<string, Node> | undefined)?.metadata;
    if (metadata && Object.keys(metadata).some((k) => k !== 'type')) problems.push(`metadata: only type: object is allowed at the root`);
  }
  const props = node.properties as Record<string, Node> | undefined;
  for (const [k, v] of Object.entries(props ?? {})) walk(v, path ? `${path}.${k}` : k, problems);
  if (node.items && typeof node.items === 'object') walk(node.items as Node, `${path}[]`, problems);
  if (node.additionalProperties && typeof node.additionalProperties === 'object') walk(node.additionalProperties as Node, `${path}[*]`, problems);
}
