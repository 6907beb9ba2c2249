/**
 * The resource types the server serves right now: the built-in ones, plus one per
 * served version of every established CustomResourceDefinition. Discovery and
 * routing read it, so a new CRD is served (and discovered) as soon as it is stored.
 */
import type { JsonObject } from './errors.js';
import { builtinTypes, type PrinterColumn, type ResourceType } from './resource-type.js';

const crdVerbs = ['delete', 'deletecollection', 'get', 'list', 'patch', 'create', 'update', 'watch'];

export class ResourceRegistry {
  private builtins = builtinTypes();
  /** CRD name → the types its served versions define. */
  private custom = new Map<string, ResourceType[]>();

  all(): ResourceType[] {
    return [...this.builtins, ...[...this.custom.values()].flat()];
  }

  find(group: string, version: string, plural: string): ResourceType | undefined {
    return this.all().find((t) => t.group === group && t.version === version && t.plural === plural);
  }

  /** The type stored under `storageKey` at its preferred (first listed) version. */
  byStorageKey(storageKey: string): ResourceType | undefined {
    return this.all().find((t) => t.storageKey === storageKey && !t.conversion);
  }

  /** The type of `apiVersion`/`kind` (an owner reference, an applied manifest). */
  byKind(apiVersion: string, kind: string): ResourceType | undefined {
    const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
    return this.all().find((t) => t.group === group && t.version === version && t.kind === kind);
  }

  /** Groups in discovery order, each with its versions (preferred first). */
  groups(): { name: string; versions: string[] }[] {
    const out: { name: string; versions: string[] }[] = [];
    for (const t of this.all()) {
      if (t.group === '') continue;
      let g = out.find((x) => x.name === t.group);
      if (!g) out.push((g = { name: t.group, versions: [] }));
      if (!g.versions.includes(t.version)) g.versions.push(t.version);
    }
    return out;
  }

  /** Serves (or re-serves) the versions of a stored CRD; returns the names it was accepted under. */
  defineCrd(crd: JsonObject): void {
    const spec = crd.spec ?? {};
    const names = spec.names ?? {};
    const plural: string = names.plural;
    const group: string = spec.group;
    const versions: JsonObject[] = (spec.versions ?? []).filter((v: JsonObject) => v.served !== false);
    const storage = (spec.versions ?? []).find((v: JsonObject) => v.storage) ?? versions[0];
    const ordered = storage ? [storage, ...versions.filter((v) => v !== storage)] : versions;
    this.custom.set(
      crd.metadata.name,
      ordered.map((v) => {
        const subresources: string[] = [];
        if (v.subresources?.status) subresources.push('status');
        return {
          group,
          version: v.name,
          kind: names.kind,
          listKind: names.listKind ?? `${names.kind}List`,
          plural,
          singular: names.singular ?? String(names.kind).toLowerCase(),
          namespaced: spec.scope !== 'Cluster',
          shortNames: names.shortNames ?? [],
          categories: names.categories ?? [],
          verbs: crdVerbs,
          subresources,
          hasStatus: subresources.includes('status'),
          tracksGeneration: true,
          strategicMerge: false,
          schema: v.schema?.openAPIV3Schema,
          printerColumns: v.additionalPrinterColumns as PrinterColumn[] | undefined,
          storageKey: `${plural}.${group}`,
        } satisfies ResourceType;
      }),
    );
  }

  forgetCrd(name: string): void {
    this.custom.delete(name);
  }
}
