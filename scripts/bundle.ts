// How every bundle is made (dist/ by scripts/build.ts, and the start-up floor of bench/cold-start.ts,
// which must be built exactly as an action is): @vercel/ncc, then esbuild's minifier.
import { execFile } from 'node:child_process';
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { transformSync } from 'esbuild';

const root = join(import.meta.dirname, '..');
const ncc = join(root, 'node_modules', '.bin', 'ncc');

/** Bundles `entry` into `outDir` (emptied first): index.js, its chunks, a package.json. */
export async function bundle(entry: string, outDir: string): Promise<void> {
  rmSync(outDir, { recursive: true, force: true });
  try {
    await promisify(execFile)(
      ncc,
      ['build', entry, '-o', outDir, '-q', '--target', 'es2022', '--no-source-map-register'],
      { cwd: root, maxBuffer: 64 << 20 },
    );
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`ncc build ${entry} failed:\n${stdout}${stderr}`, { cause: error });
  }
  // Every file is minified here (the Kubernetes client's chunk is 20 MB unminified), whitespace and
  // syntax only, so names in stack traces survive and the output is deterministic. Not by ncc's
  // minifier: it drops the parentheses webpack writes around each module's function, which are what
  // makes V8 compile those functions with the file, so that Node's compile cache keeps them (a
  // function compiled later, when first called, is compiled again in every run).
  for (const file of readdirSync(outDir).filter((f) => /^(?:\d+\.)?index\.js$/.test(f))) {
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
