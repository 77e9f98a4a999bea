// Bundles every action adapter (actions/<name>/src/index.ts, plus post.ts where present) into
// dist/<name>/ with @vercel/ncc. The bundles are committed; `--check` (npm run check-dist, npm test)
// then fails, printing the diff, unless dist/ matches HEAD with no untracked file in it.
// Usage: node scripts/build.ts [--check] [cli|<action> ...]
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { bundle } from './bundle.ts';
import { checkDist } from './dist-check.ts';

const root = join(import.meta.dirname, '..');
const args = process.argv.slice(2);
const check = args.includes('--check');
const only = args.filter((a) => a !== '--check');

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
