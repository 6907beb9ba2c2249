import { sql as init } from './001-init.js';
import { sql as definitionFiles } from './002-definition-files.js';
import { sql as apps } from './003-apps.js';
import { sql as runCounts } from './004-run-counts.js';
import { sql as stepRevisions } from './005-step-revisions.js';
import { sql as auth } from './006-auth.js';
import { sql as boundedIndexRows } from './007-bounded-index-rows.js';
import { sql as runTokens } from './008-run-tokens.js';
import { sql as testResults } from './009-test-results.js';
import { sql as runProfile } from './010-run-profile.js';
import { sql as retention } from './011-retention.js';
import { sql as labelsIndex } from './012-labels-index.js';
import { sql as testsIdIndex } from './013-tests-id-index.js';

/** One schema change, applied once, in version order. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Every migration, oldest first. Append new ones; never edit an applied one. */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'init', sql: init },
  { version: 2, name: 'definition-files', sql: definitionFiles },
  { version: 3, name: 'apps', sql: apps },
  { version: 4, name: 'run-counts', sql: runCounts },
  { version: 5, name: 'step-revisions', sql: stepRevisions },
  { version: 6, name: 'auth', sql: auth },
  { version: 7, name: 'bounded-index-rows', sql: boundedIndexRows },
  { version: 8, name: 'run-tokens', sql: runTokens },
  { version: 9, name: 'test-results', sql: testResults },
  { version: 10, name: 'run-profile', sql: runProfile },
  { version: 11, name: 'retention', sql: retention },
  { version: 12, name: 'labels-index', sql: labelsIndex },
  { version: 13, name: 'tests-id-index', sql: testsIdIndex },
];
