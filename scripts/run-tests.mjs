// Runs every compiled test with Node's test runner: unit specs beside the
// source (apps/*/dist, libs/*/dist: *.spec.js) and the cross-app tests in
// test/dist (*.test.js). `npm test` builds first.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

function collect(dir, suffix, found = []) {
  if (!existsSync(dir)) return found;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory() && entry.name !== 'node_modules') collect(path, suffix, found);
    else if (entry.isFile() && entry.name.endsWith(suffix)) found.push(relative(root, path));
  }
  return found;
}

const distDirs = ['apps', 'libs'].flatMap((group) =>
  readdirSync(join(root, group)).map((name) => join(root, group, name, 'dist')),
);
const files = [
  ...distDirs.flatMap((dir) => collect(dir, '.spec.js', [])).sort(),
  ...collect(join(root, 'test', 'dist'), '.test.js').sort(),
];
const only = process.argv.slice(2);
const selected = only.length === 0 ? files : files.filter((file) => only.some((part) => file.includes(part)));
if (selected.length === 0) {
  console.error('No test files found: run "npm run build" first.');
  process.exit(1);
}
const result = spawnSync(
  process.execPath,
  ['--test', '--test-concurrency=2', '--test-timeout=300000', ...selected],
  { cwd: root, stdio: 'inherit' },
);
process.exit(result.status ?? 1);
