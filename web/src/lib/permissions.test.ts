import { describe, expect, it } from 'vitest';
import { disabledReason, roleToRunStored } from './permissions';

describe('disabledReason', () => {
  it('says which role an action needs and which the caller has', () => {
    expect(disabledReason('viewer', 'runner')).toBe('needs the runner role; you are a viewer');
    expect(disabledReason('runner', 'editor')).toBe('needs the editor role; you are a runner');
    expect(disabledReason('editor', 'admin')).toBe('needs the admin role; you are an editor');
  });

  it('allows the role itself and every role above it', () => {
    expect(disabledReason('runner', 'runner')).toBeNull();
    expect(disabledReason('editor', 'runner')).toBeNull();
    expect(disabledReason('admin', 'editor')).toBeNull();
    expect(disabledReason('admin', 'admin')).toBeNull();
  });
});

describe('roleToRunStored', () => {
  const definition = { env: { BASE_URL: 'http://127.0.0.1:8080', API_TOKEN: '***' }, script: 'assert(true)', appName: 'shop' };

  it('lets a runner run a definition as it is stored', () => {
    expect(roleToRunStored(definition, {})).toBe('runner');
    expect(roleToRunStored(definition, { env: { BASE_URL: 'http://127.0.0.1:8080' }, appName: 'shop' })).toBe('runner');
  });

  it('asks for an editor to change where a definition with stored env goes', () => {
    expect(roleToRunStored(definition, { env: { BASE_URL: 'http://elsewhere.example' } })).toBe('editor');
    expect(roleToRunStored(definition, { appName: 'other-app' })).toBe('editor');
  });

  it('lets a runner give env to a definition that stores none (no secret to send anywhere)', () => {
    expect(roleToRunStored({ env: {}, script: 'assert(true)' }, { env: { BASE_URL: 'http://elsewhere.example' } })).toBe('runner');
  });
});
