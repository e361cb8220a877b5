#!/usr/bin/env node
// Runs every compiled test file with node:test under the Node binary that runs this script
// (Node 20 has no glob in --test, so the files are listed here). Extra arguments are passed on,
// e.g. `npm test -- --test-name-pattern=channel`.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const roots = [
  ...readdirSync('packages').map((pkg) => join('packages', pkg, 'dist', 'test')),
  join('test', 'dist'),
  join('benchmarks', 'dist', 'test'),
];
const files = [];
const walk = (dir) => {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path);
    else if (entry.name.endsWith('.test.js')) files.push(path);
  }
};
roots.forEach(walk);
if (files.length === 0) {
  console.error('no compiled test files found: run `npm run build` first');
  process.exit(1);
}
console.log(`node ${process.version}: ${files.length} test files`);
const result = spawnSync(
  process.execPath,
  ['--test', '--test-reporter=spec', ...process.argv.slice(2), ...files.sort()],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
