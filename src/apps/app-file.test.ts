import { describe, expect, it } from 'vitest';
import { parseAppFile } from './app-file.js';
import { BASE_DIR_ANNOTATION } from './app-controller.js';

const app = (name: string, extra = '') => `apiVersion: topas.dev/v1alpha1
kind: App
metadata:
  name: ${name}
spec:
  services:
    - name: web
      version: v1
      port: 8080${extra}
`;

describe('App files', () => {
  it('reads several documents, applies defaults and records the file\'s folder for relative paths', () => {
    const apps = parseAppFile(`${app('one')}---\n${app('two')}---\n`, '/srv/stack/apps.yaml');
    expect(apps.map((a) => a.metadata.name)).toEqual(['one', 'two']);
    expect(apps[0]!.spec.services[0]).toMatchObject({ name: 'web', replicas: 1 });
    expect(apps[0]!.metadata.annotations?.[BASE_DIR_ANNOTATION]).toBe('/srv/stack');
  });

  it('names the file, line and field of every problem', () => {
    const text = `${app('one', '\n      replicas: many\n      colour: blue')}---\n${app('Two')}`;
    expect(() => parseAppFile(text, 'apps.yaml')).toThrow(
      [
        'apps.yaml:10: spec.services[0].replicas: must be an integer from 0 to 100, got "many"',
        'apps.yaml:11: spec.services[0].colour: unknown field (check the spelling)',
        'apps.yaml:16: metadata.name: must be a DNS label (lower-case letters, digits and "-")',
      ].join('\n'),
    );
  });

  it('reports YAML syntax errors and files without an App', () => {
    expect(() => parseAppFile('kind: App\nspec: [a\n', 'x.yaml')).toThrow(/^x\.yaml:\d+: /);
    expect(() => parseAppFile('# nothing\n', 'empty.yaml')).toThrow('empty.yaml: no App in it');
    expect(() => parseAppFile('apiVersion: v1\nkind: Pod\nmetadata: { name: p }\nspec: {}\n', 'pod.yaml')).toThrow(
      'pod.yaml:1: apiVersion: must be "topas.dev/v1alpha1", got "v1"',
    );
  });
});
