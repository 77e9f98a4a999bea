// Is the committed dist/ exactly what a fresh build produced? Compares the working tree's dist/
// with HEAD: changed or deleted tracked files (with their diff) and files git does not track
// (new or ignored: both would ship in `npm pack` or be missing from a tag) are failures.
import { spawnSync } from 'node:child_process';

/** Longest diff printed; bundles are minified, so a changed line can be very long. */
const maxDiffChars = 20_000;

function git(root: string, args: string[]): string {
  const result = spawnSync('git', args, { cwd: root, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (result.status !== 0) {
    throw new Error(`git ${args.join(' ')} failed (exit ${result.status ?? result.signal}): ${result.stderr.trim()}`);
  }
  return result.stdout;
}

/**
 * undefined when `dir` (relative to the repository `root`) matches HEAD; otherwise a report
 * naming every changed, deleted and untracked file, with the diff (cut at 20,000 characters).
 */
export function checkDist(root: string, dir = 'dist'): string | undefined {
  const changed = git(root, ['diff', '--name-status', 'HEAD', '--', `${dir}/`]).trim();
  // Without --exclude-standard: an ignored file in dist/ is as wrong as an untracked one.
  const untracked = git(root, ['ls-files', '--others', '--', `${dir}/`]).trim();
  if (!changed && !untracked) return undefined;
  const lines = [`${dir}/ does not match a fresh build (run \`npm run build\` and commit ${dir}/):`];
  if (changed) {
    lines.push(
      '',
      'changed or deleted (status, file):',
      changed,
      '',
      git(root, ['diff', '--text', '--stat', 'HEAD', '--', `${dir}/`]),
    );
    // --text: .gitattributes marks dist/** -diff, which would print "Binary files differ".
    const diff = git(root, ['diff', '--text', 'HEAD', '--', `${dir}/`]);
    lines.push(
      diff.length > maxDiffChars
        ? `${diff.slice(0, maxDiffChars)}\n… diff cut at ${maxDiffChars} of ${diff.length} characters`
        : diff,
    );
  }
  if (untracked) lines.push('', 'not tracked by git (new, or ignored):', untracked);
  return lines.join('\n').trimEnd();
}
