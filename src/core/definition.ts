/** A stored, named test that runs can be started from. */
export interface TestDefinition {
  id: string;
  name: string;
  description: string;
  /** The Lua source of the test. */
  script: string;
  /** Other files of the test's folder by relative path (see RunFiles); copied onto each run. */
  files: Record<string, string>;
  /** Defaults every run of this definition starts with (overridable per run). */
  env: Record<string, string>;
  timeoutSeconds: number;
  labels: Record<string, string>;
  appName: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface NewTestDefinition {
  id?: string;
  name: string;
  description?: string;
  script: string;
  files?: Record<string, string>;
  env?: Record<string, string>;
  timeoutSeconds?: number;
  labels?: Record<string, string>;
  appName?: string | null;
}

export type TestDefinitionPatch = Partial<Omit<NewTestDefinition, 'id'>>;
