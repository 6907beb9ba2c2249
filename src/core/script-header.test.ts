import { describe, expect, it } from 'vitest';
import { appNameFromHeader } from './script-header.js';

describe('the App named in a script header', () => {
  it('is read from the leading comment lines only', () => {
    expect(appNameFromHeader('-- app: demo\nprint(1)')).toBe('demo');
    expect(appNameFromHeader('\n-- The upgrade test.\n--   app: shop-2  \nlocal x = 1')).toBe('shop-2');
    expect(appNameFromHeader('print(1)\n-- app: demo')).toBeNull();
    expect(appNameFromHeader('-- app: Not_A_Name\n')).toBeNull();
    expect(appNameFromHeader('-- apps: demo\n')).toBeNull();
  });
});
