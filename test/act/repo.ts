// A throwaway git repository holding this checkout's files (tracked and new, not ignored), where act
// runs the workflows: its commits are the SHAs the event payloads name, its remote `origin` says
// github.com/org/adci (act derives github.repository from it), and commits made during a run (a
// second release, a bad one) never touch the real checkout.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const repoRoot = join(import.meta.dirname, '..', '..');
const eventsDir = join(import.meta.dirname, 'events');

export interface ActRepository {
  dir: string;
  git(...args: string[]): string;
  /** Writes files (path relative to the repository -> content), commits them, returns the new SHA. */
  commit(message: string, files?: Record<string, string>): string;
  head(): string;
  /** The event payload of test/act/events/<name>.json with its placeholders filled. */
  payload(name: 'pull_request' | 'push-develop' | 'push-main', values: Record<string, string>): object;
  remove(): void;
}

const IDENTITY = ['-c', 'user.name=adci pipeline', '-c', 'user.email=pipeline@adci.invalid'];

export function createActRepository(source = repoRoot): ActRepository {
  const dir = mkdtempSync(join(tmpdir(), 'adci-act-repo-'));
  const git = (...args: string[]): string =>
    execFileSync('git', [...IDENTITY, ...args], {
      cwd: dir,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    }).trim();
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: source,
    encoding: 'utf8',
  })
    .split('\0')
    .filter(Boolean);
  for (const file of files) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    try {
      cpSync(join(source, file), join(dir, file), { verbatimSymlinks: true });
    } catch (error) {
      // A tracked file deleted in the work tree is not part of this snapshot.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  git('init', '--quiet', '--initial-branch=main');
  git('remote', 'add', 'origin', 'https://github.com/org/adci.git');
  git('add', '--all');
  git('commit', '--quiet', '--no-verify', '-m', 'adci snapshot for act');
  const repository: ActRepository = {
    dir,
    git,
    head: () => git('rev-parse', 'HEAD'),
    commit(message, changes = {}) {
      for (const [path, content] of Object.entries(changes)) {
        mkdirSync(dirname(join(dir, path)), { recursive: true });
        writeFileSync(join(dir, path), content);
      }
      git('add', '--all');
      git('commit', '--quiet', '--no-verify', '--allow-empty', '-m', message);
      return repository.head();
    },
    payload(name, values) {
      const template = readFileSync(join(eventsDir, `${name}.json`), 'utf8');
      const filled = template.replace(/\{\{ (\w+) \}\}/g, (whole, key: string) => {
        const value = values[key];
        if (value === undefined) throw new Error(`test/act/events/${name}.json: no value for ${whole}`);
        return JSON.stringify(value).slice(1, -1);
      });
      return JSON.parse(filled) as object;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
  return repository;
}

/**
 * examples/ad-platform as its own repository (as a team would keep it, and as .gitlab-ci.yml and
 * the Jenkinsfile expect): its files, tracked and new, not ignored, committed on `branch` with a
 * remote named origin. Returns the directory and the commit.
 */
export function createExampleRepository(
  branch: string,
  remote = 'https://gitlab.example.com/ads/ad-platform.git',
): { dir: string; sha: string } {
  const example = join(repoRoot, 'examples', 'ad-platform');
  const dir = mkdtempSync(join(tmpdir(), 'adci-example-repo-'));
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard', '.'], {
    cwd: example,
    encoding: 'utf8',
  })
    .split('\0')
    .filter(Boolean);
  for (const file of files) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    cpSync(join(example, file), join(dir, file));
  }
  const git = (...args: string[]): string =>
    execFileSync('git', [...IDENTITY, ...args], {
      cwd: dir,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    }).trim();
  git('init', '--quiet', `--initial-branch=${branch}`);
  git('remote', 'add', 'origin', remote);
  git('add', '--all');
  git('commit', '--quiet', '--no-verify', '-m', 'Raise the default bid');
  return { dir, sha: git('rev-parse', 'HEAD') };
}
