// Bundles every action adapter (actions/<name>/src/index.ts, plus post.ts where present) into
// dist/<name>/ with @vercel/ncc. The bundles are committed; `--check` (npm run check-dist, npm test)
// then fails, printing the diff, unless dist/ matches HEAD with no untracked file in it.
// Usage: node scripts/build.ts [--check] [cli|<action> ...]
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { transformSync } from 'esbuild';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { checkDist } from './dist-check.ts';

const root = join(import.meta.dirname, '..');
const ncc = join(root, 'node_modules', '.bin', 'ncc');
const args = process.argv.slice(2);
const check = args.includes('--check');
const only = args.filter((a) => a !== '--check');

async function bundle(entry: string, outDir: string): Promise<void> {
  rmSync(outDir, { recursive: true, force: true });
  try {
    await promisify(execFile)(
      ncc,
      ['build', entry, '-o', outDir, '-m', '-q', '--target', 'es2022', '--no-source-map-register'],
      { cwd: root, maxBuffer: 64 << 20 },
    );
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`ncc build ${entry} failed:\n${stdout}${stderr}`, { cause: error });
  }
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

/** Each bundle: its entry, its output folder, and a post.ts bundle that goes into it afterwards. */
const builds: { entry: string; outDir: string; post?: string }[] = [];
if (only.length === 0 || only.includes('cli'))
  builds.push({ entry: join(root, 'packages', 'cli', 'src', 'main.ts'), outDir: join(root, 'dist', 'cli') });
for (const name of actions) {
  const src = join(root, 'actions', name, 'src');
  const post = join(src, 'post.ts');
  builds.push({
    entry: join(src, 'index.ts'),
    outDir: join(root, 'dist', name),
    ...(existsSync(post) ? { post } : {}),
  });
}

// Two at a time (ncc is mostly one thread; the machines that run this have two cores or more). A
// post.ts bundle is built after its action's own, which clears the action's dist/ folder first.
async function worker(): Promise<void> {
  for (let next = builds.shift(); next; next = builds.shift()) {
    process.stdout.write(`building ${next.outDir.slice(root.length + 1)}\n`);
    await bundle(next.entry, next.outDir);
    if (next.post) await bundle(next.post, join(next.outDir, 'post'));
  }
}
try {
  await Promise.all([worker(), worker()]);
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(1);
}

if (check) {
  const problem = checkDist(root);
  if (problem) {
    process.stderr.write(`${problem}\n`);
    process.exit(1);
  }
  process.stdout.write('dist/ matches HEAD\n');
}
