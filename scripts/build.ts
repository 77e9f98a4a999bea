// Bundles every action adapter (actions/<name>/src/index.ts, plus post.ts where present) into
// dist/<name>/ with @vercel/ncc. The bundles are committed; `--check` (npm run check-dist, npm test)
// then fails, printing the diff, unless dist/ matches HEAD with no untracked file in it.
// Usage: node scripts/build.ts [--check] [cli|<action> ...]
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { transformSync } from 'esbuild';
import { join } from 'node:path';
import { checkDist } from './dist-check.ts';

const root = join(import.meta.dirname, '..');
const ncc = join(root, 'node_modules', '.bin', 'ncc');
const args = process.argv.slice(2);
const check = args.includes('--check');
const only = args.filter((a) => a !== '--check');

function bundle(entry: string, outDir: string): void {
  rmSync(outDir, { recursive: true, force: true });
  execFileSync(ncc, ['build', entry, '-o', outDir, '-m', '-q', '--target', 'es2022', '--no-source-map-register'], {
    cwd: root,
    stdio: 'inherit',
  });
  // ncc minifies only the entry file; the chunks of lazily imported modules (the Kubernetes
  // client is 20 MB unminified) are minified here, whitespace and syntax only, so names in
  // stack traces survive and the output is deterministic.
  for (const file of readdirSync(outDir).filter((f) => /^\d+\.index\.js$/.test(f))) {
    const path = join(outDir, file);
    const { code } = transformSync(readFileSync(path, 'utf8'), {
      minifyWhitespace: true,
      minifySyntax: true,
      format: 'esm',
      target: 'es2022',
      legalComments: 'none',
    });
    writeFileSync(path, code);
  }
  // ncc writes {"type":"module"} for an ESM bundle; keep it explicit so a CommonJS slip fails loudly.
  writeFileSync(join(outDir, 'package.json'), '{ "type": "module" }\n');
}

const actions = readdirSync(join(root, 'actions'), { withFileTypes: true })
  // An action is a folder with a public action.yml at the top and an adapter in actions/<name>/src.
  .filter((d) => d.isDirectory() && existsSync(join(root, d.name, 'action.yml')))
  .map((d) => d.name)
  .filter((name) => only.length === 0 || only.includes(name));

if (only.length === 0 || only.includes('cli')) {
  process.stdout.write('building dist/cli\n');
  bundle(join(root, 'packages', 'cli', 'src', 'main.ts'), join(root, 'dist', 'cli'));
}

for (const name of actions) {
  const src = join(root, 'actions', name, 'src');
  process.stdout.write(`building dist/${name}\n`);
  bundle(join(src, 'index.ts'), join(root, 'dist', name));
  if (existsSync(join(src, 'post.ts'))) bundle(join(src, 'post.ts'), join(root, 'dist', name, 'post'));
}

if (check) {
  const problem = checkDist(root);
  if (problem) {
    process.stderr.write(`${problem}\n`);
    process.exit(1);
  }
  process.stdout.write('dist/ matches HEAD\n');
}
