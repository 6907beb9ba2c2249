import { describe, expect, it } from 'vitest';
import { disabledReason, roleToRun } from './permissions';

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

describe('roleToRun', () => {
  it('lets a runner start a stored test as it is, and asks for an editor to change it', () => {
    expect(roleToRun(false)).toBe('runner');
    expect(roleToRun(true)).toBe('editor');
  });
});
