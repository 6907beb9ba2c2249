import { describe, expect, it } from 'vitest';
import { jsonPatch, mergePatch, strategicMergePatch } from './patch.js';

describe('merge patch', () => {
  it('merges maps, replaces lists, and deletes with null', () => {
    expect(mergePatch({ a: { b: 1, c: 2 }, l: [1, 2] }, { a: { c: null, d: 3 }, l: [3] })).toEqual({ a: { b: 1, d: 3 }, l: [3] });
  });
});

describe('JSON patch', () => {
  it('adds, removes, replaces, moves, copies and tests', () => {
    const doc = { a: [1, 2], b: { c: 1 } };
    expect(
      jsonPatch(doc, [
        { op: 'add', path: '/a/-', value: 3 },
        { op: 'remove', path: '/a/0' },
        { op: 'replace', path: '/b/c', value: 2 },
        { op: 'copy', from: '/b', path: '/d' },
        { op: 'move', from: '/d/c', path: '/e' },
        { op: 'test', path: '/e', value: 2 },
      ]),
    ).toEqual({ a: [2, 3], b: { c: 2 }, d: {}, e: 2 });
    expect(doc).toEqual({ a: [1, 2], b: { c: 1 } });
  });

  it('fails a test operation with a 422', () => {
    expect(() => jsonPatch({ a: 1 }, [{ op: 'test', path: '/a', value: 2 }])).toThrow(expect.objectContaining({ status: 422 }));
  });
});

describe('strategic merge patch', () => {
  const pod = {
    metadata: { finalizers: ['a'] },
    spec: {
      containers: [
        { name: 'main', image: 'x:1', env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }], volumeMounts: [{ name: 'v', mountPath: '/v' }] },
        { name: 'side', image: 'y:1' },
      ],
      volumes: [{ name: 'v', emptyDir: {} }],
    },
  };

  it('merges lists of maps by their merge key and primitive sets', () => {
    const out = strategicMergePatch(pod, {
      metadata: { finalizers: ['b'] },
      spec: { containers: [{ name: 'main', env: [{ name: 'B', value: '3' }, { name: 'C', value: '4' }] }, { name: 'new', image: 'z:1' }] },
    }) as any;
    expect(out.metadata.finalizers).toEqual(['a', 'b']);
    expect(out.spec.containers.map((c: any) => c.name)).toEqual(['main', 'side', 'new']);
    expect(out.spec.containers[0].image).toBe('x:1');
    expect(out.spec.containers[0].env).toEqual([
      { name: 'A', value: '1' },
      { name: 'B', value: '3' },
      { name: 'C', value: '4' },
    ]);
  });

  it('follows $patch, $retainKeys, $deleteFromPrimitiveList and $setElementOrder', () => {
    const out = strategicMergePatch(pod, {
      metadata: { '$deleteFromPrimitiveList/finalizers': ['a'] },
      spec: {
        '$setElementOrder/containers': [{ name: 'side' }, { name: 'main' }],
        containers: [{ name: 'main', env: [{ name: 'A', $patch: 'delete' }] }],
        volumes: [{ name: 'v', $retainKeys: ['name', 'configMap'], configMap: { name: 'cm' } }],
      },
    }) as any;
    expect(out.metadata.finalizers).toEqual([]);
    expect(out.spec.containers.map((c: any) => c.name)).toEqual(['side', 'main']);
    expect(out.spec.containers[1].env).toEqual([{ name: 'B', value: '2' }]);
    expect(out.spec.volumes).toEqual([{ name: 'v', configMap: { name: 'cm' } }]);
    const replaced = strategicMergePatch(pod, { spec: { volumes: [{ name: 'w', emptyDir: {} }, { $patch: 'replace' }] } }) as any;
    expect(replaced.spec.volumes).toEqual([{ name: 'w', emptyDir: {} }]);
  });
});
