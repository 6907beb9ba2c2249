#!/usr/bin/env node
// The `topas` (alias `kctrl`) command. Runs the compiled CLI from dist/ (always
// there in an installed package); in a checkout without a build it falls back to
// the TypeScript sources through tsx, a development dependency.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const compiled = new URL('../dist/cli/main.js', import.meta.url);
if (existsSync(fileURLToPath(compiled))) {
  await import(compiled.href);
} else {
  let register;
  try {
    ({ register } = await import('tsx/esm/api'));
  } catch {
    process.stderr.write(`error: topas is not built (${fileURLToPath(compiled)} is missing): run "npm install" or "npm run build" in ${fileURLToPath(new URL('..', import.meta.url))}\n`);
    process.exit(2);
  }
  register();
  await import(new URL('../src/cli/main.ts', import.meta.url).href);
}
