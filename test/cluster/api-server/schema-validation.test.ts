import { describe, expect, it } from 'vitest';
import { validateCustomResource } from './schema-validation.js';

const schema = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      properties: {
        name: { type: 'string', default: 'unnamed' },
        note: { type: 'string', nullable: true },
        items: { type: 'array', maxItems: 2, items: { type: 'object', required: ['id'], properties: { id: { type: 'integer', minimum: 1 } } } },
        labels: { type: 'object', additionalProperties: { type: 'string', maxLength: 3 } },
        raw: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
        at: { type: 'string', format: 'date-time' },
      },
    },
  },
};

describe('custom resource schema validation', () => {
  it('defaults, drops non-nullable nulls, keeps nullable ones, prunes unknown fields and preserves what it must', () => {
    const obj = { apiVersion: 'x/v1', kind: 'X', metadata: { name: 'a' }, spec: { name: null, note: null, other: 1, raw: { any: { deep: true } }, items: [{ id: 1, extra: 2 }] } };
    const result = validateCustomResource(schema, obj);
    expect(result.errors).toEqual([]);
    expect(result.unknownFields).toEqual(['spec.other', 'spec.items[0].extra']);
    expect(obj.spec).toEqual({ name: 'unnamed', note: null, raw: { any: { deep: true } }, items: [{ id: 1 }] });
  });

  it('reports errors in nested arrays and maps with their paths', () => {
    const obj = { spec: { items: [{ id: 0 }, {}, { id: 2 }], labels: { a: 'long' }, at: 'yesterday' } };
    const result = validateCustomResource(schema, obj as any);
    expect(result.errors.map((e) => `${e.field}: ${e.detail}`)).toEqual([
      'spec.items[0].id: Invalid value: 0: spec.items[0].id in body should be greater than or equal to 1',
      'spec.items[1].id: Required value',
      'spec.items: Too many: 3: must have at most 2 items',
      'spec.labels.a: Too long: may not be more than 3 bytes',
      'spec.at: Invalid value: "yesterday": spec.at in body must be of type date-time: "yesterday"',
    ]);
  });
});
