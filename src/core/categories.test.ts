import { describe, expect, it } from 'vitest';
import { CategoryRulesSchema, DEFAULT_CATEGORY, DEFAULT_CATEGORY_RULES, categorizer, type CategoryRules, type FailureSubject } from './categories.js';

function subject(overrides: Partial<FailureSubject> = {}): FailureSubject {
  return {
    testKey: 'checkout.lua::pays',
    testName: 'pays',
    message: 'expected 200, got 500',
    log: '',
    definition: 'checkout.lua',
    app: 'shop',
    labels: {},
    ...overrides,
  };
}

const judge = (rules: CategoryRules['rules'], s: Partial<FailureSubject>) => categorizer({ rules })(subject(s));

describe('categorizer', () => {
  it('gives the first matching rule, in order', () => {
    const rules = [
      { name: 'first', category: 'A', match: { message: ['500'] } },
      { name: 'second', category: 'B', match: { message: ['got'] } },
    ];
    expect(judge(rules, {})).toEqual({ category: 'A', rule: 'first' });
    expect(judge([...rules].reverse(), {})).toEqual({ category: 'B', rule: 'second' });
  });

  it('needs every field of a rule to match, and any one matcher within a field', () => {
    const rules = [{ name: 'both', category: 'Both', match: { message: ['timeout', '500'], app: ['shop'] } }];
    expect(judge(rules, {})).toEqual({ category: 'Both', rule: 'both' });
    expect(judge(rules, { message: 'read timeout' })).toEqual({ category: 'Both', rule: 'both' });
    expect(judge(rules, { app: 'bank' })).toEqual({ category: DEFAULT_CATEGORY, rule: null });
    expect(judge(rules, { app: null })).toEqual({ category: DEFAULT_CATEGORY, rule: null });
    expect(judge(rules, { message: 'expected 1, got 2' })).toEqual({ category: DEFAULT_CATEGORY, rule: null });
  });

  it('matches plain strings as case-insensitive substrings, not as patterns', () => {
    const rules = [{ name: 'dot', category: 'Dot', match: { message: ['A.B'] } }];
    expect(judge(rules, { message: 'xx a.b yy' }).rule).toBe('dot');
    expect(judge(rules, { message: 'aXb' }).rule).toBeNull();
  });

  it('matches regexes case-insensitively unless caseSensitive', () => {
    const loose = [{ name: 'r', category: 'R', match: { message: [{ regex: '^conn(ection)? refused$' }] } }];
    expect(judge(loose, { message: 'Connection REFUSED' }).rule).toBe('r');
    expect(judge(loose, { message: 'the connection refused' }).rule).toBeNull();
    const strict = [{ name: 'r', category: 'R', match: { message: [{ regex: 'ECONNREFUSED', caseSensitive: true }] } }];
    expect(judge(strict, { message: 'connect ECONNREFUSED 10.0.0.1' }).rule).toBe('r');
    expect(judge(strict, { message: 'connect econnrefused' }).rule).toBeNull();
  });

  it('matches test key or name, log, definition and labels; a missing label never matches', () => {
    expect(judge([{ name: 't', category: 'T', match: { test: ['checkout.lua::'] } }], {}).rule).toBe('t');
    expect(judge([{ name: 't', category: 'T', match: { test: [{ regex: '^pays$' }] } }], {}).rule).toBe('t');
    expect(judge([{ name: 'l', category: 'L', match: { log: ['retrying'] } }], { log: 'a\nRetrying in 1s\n' }).rule).toBe('l');
    expect(judge([{ name: 'd', category: 'D', match: { definition: ['checkout'] } }], {}).rule).toBe('d');
    const byLabel = [{ name: 'nightly', category: 'N', match: { labels: { pipeline: ['nightly'] } } }];
    expect(judge(byLabel, { labels: { pipeline: 'Nightly-EU' } }).rule).toBe('nightly');
    expect(judge(byLabel, { labels: { other: 'nightly' } }).rule).toBeNull();
  });

  it('is Regression when no rule matches (and with no rules at all)', () => {
    expect(categorizer({ rules: [] })(subject())).toEqual({ category: 'Regression', rule: null });
  });
});

describe('the shipped default rules', () => {
  const judgeDefault = (s: Partial<FailureSubject>) => categorizer(DEFAULT_CATEGORY_RULES)(subject(s)).category;

  it('validate against the schema', () => {
    expect(CategoryRulesSchema.parse(DEFAULT_CATEGORY_RULES)).toEqual(DEFAULT_CATEGORY_RULES);
  });

  it.each([
    ['getaddrinfo ENOTFOUND users-db', 'Missing Component'],
    ['connect ECONNREFUSED 127.0.0.1:5432', 'Missing Component'],
    ['App "shop" does not exist; apply it first', 'Missing Component'],
    ['request failed: 401 Unauthorized', 'Config Gap'],
    ['403 Forbidden: missing scope orders:write', 'Config Gap'],
    ['secret "db-creds" not found', 'Config Gap'],
    ['missing environment variable API_KEY', 'Config Gap'],
    ['container runner terminated: OOMKilled', 'Platform Issue'],
    ['Back-off pulling image: ImagePullBackOff', 'Platform Issue'],
    ['write /tmp/x: no space left on device', 'Platform Issue'],
    ['expected 200, got 500', 'Regression'],
    ['expected "alice", got "bob"', 'Regression'],
    ['attempt to index a nil value (local \'body\')', 'Regression'],
  ])('%s → %s', (message, category) => {
    expect(judgeDefault({ message })).toBe(category);
  });

  it('puts an upgrade test missing its namespace under Upgrade Prerequisite, other tests under Missing Component', () => {
    expect(judgeDefault({ testKey: 'upgrade.lua::v1 to v2', testName: 'v1 to v2', message: 'namespace not found: shop-v2' })).toBe('Upgrade Prerequisite');
    expect(judgeDefault({ testKey: 'upgrade-path::migrates', testName: 'migrates', message: 'schema version 3 not yet migrated' })).toBe('Upgrade Prerequisite');
    expect(judgeDefault({ message: 'namespace not found: shop-v2' })).not.toBe('Upgrade Prerequisite');
  });

  it('does not take a status code inside another number for a config gap', () => {
    expect(judgeDefault({ message: 'expected 1401 items, got 1400' })).toBe('Regression');
  });
});

describe('CategoryRulesSchema', () => {
  it('names the field of a bad regex and of a duplicate name', () => {
    const result = CategoryRulesSchema.safeParse({
      rules: [
        { name: 'a', category: 'A', match: { message: ['x'] } },
        { name: 'a', category: 'B', match: { message: [{ regex: '(' }] } },
      ],
    });
    expect(result.success).toBe(false);
    const issues = result.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(issues).toContain('rules.1.match.message.0.regex: is not a valid regular expression');
    expect(issues).toContain('rules.1.name: duplicates rule "a"');
  });
});
