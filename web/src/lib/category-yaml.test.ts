import { describe, expect, it } from 'vitest';
import { DEFAULT_CATEGORY_RULES } from '../../../src/core/categories';
import { describeMatch, moveRule, rulesToYaml, yamlToRules } from './category-yaml';

describe('category rules as YAML', () => {
  it('round-trips the shipped rules, regexes and all', () => {
    const text = rulesToYaml(DEFAULT_CATEGORY_RULES.rules);
    expect(text.startsWith('rules:\n')).toBe(true);
    expect(yamlToRules(text)).toEqual({ rules: DEFAULT_CATEGORY_RULES.rules });
  });

  it('says what is wrong with text that is not a rule list', () => {
    expect(yamlToRules('rules: [unclosed')).toMatchObject({ error: expect.stringContaining('does not parse') });
    expect(yamlToRules('rules: 3')).toEqual({ error: 'Write the rules as a list under `rules:` (as in categories.yaml).' });
    expect(yamlToRules('')).toEqual({ rules: [] });
  });

  it('moves a rule up or down, never out of the list', () => {
    expect(moveRule(['a', 'b', 'c'], 2, -1)).toEqual(['a', 'c', 'b']);
    expect(moveRule(['a', 'b', 'c'], 0, -1)).toEqual(['a', 'b', 'c']);
    expect(moveRule(['a', 'b', 'c'], 0, 1)).toEqual(['b', 'a', 'c']);
  });

  it('describes matchers in one line per field', () => {
    expect(describeMatch({ name: 'x', category: 'Config Gap', match: { message: ['refused', { regex: 'time(d)? ?out' }], labels: { env: ['staging'] } } })).toEqual([
      'message ~ "refused", /time(d)? ?out/',
      'label env ~ "staging"',
    ]);
  });
});
