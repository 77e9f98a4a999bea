// Go programs the tests run, built once per machine from the Go module proxy into a cache outside
// the repo (~/.cache/adci/, ADCI_CACHE_DIR overrides): the control plane and node agent
// (build.ts), act (test/act/act.ts) and Prometheus (prometheus.ts). Each lives in a directory
// named by what it is, its version and a hash of its build recipe, so a changed recipe builds
// anew. A build runs in `<dir>.partial` and is renamed into place when complete (an interrupted
// build is never used), one at a time per directory (a lock file holding the builder's pid: a
// second caller waits for it), with the whole `go` output in `<dir>.build.log` and progress
// every 15 s.
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { log as clusterLog, run, runStreaming, sleep } from './run.ts';

/** The environment of every build: no cgo, the machine's own Go, go.mod/go.sum as committed. */
export function goEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    CGO_ENABLED: '0',
    GOTOOLCHAIN: 'local',
    GOFLAGS: '-mod=readonly -buildvcs=false',
    ...extra,
  };
}

/** A short hash of files (in order) and any further recipe text: the cache key of a build. */
export function recipeHash(dir: string, files: string[], recipe: string[] = []): string {
  const hash = createHash('sha256');
  for (const name of files) hash.update(readFileSync(join(dir, name)));
  for (const part of recipe) hash.update(part);
  return hash.digest('hex').slice(0, 12);
}

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

/** One `go` command of a build. */
export interface GoCommand {
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Packages whose dependencies `go list -deps` counts first, for a percentage in the progress lines. */
  progressOf?: string[];
}

export interface GoBuild {
  /** What is built, for the log lines: `Prometheus 3.16.0 (prometheus, promtool)`. */
  what: string;
  /** The cache directory. */
  dir: string;
  /** The file in dir whose presence says the build is there (default `.complete`, always written). */
  marker?: string;
  /** The go commands, given the partial directory to write into. */
  commands: (partial: string) => GoCommand[];
  /** After the commands, before the rename (e.g. renaming a binary). */
  finish?: (partial: string) => Promise<void>;
  /** How long a cold build takes here, for the first log line. */
  expected?: string;
  log?: (line: string) => void;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** One build per cache directory at a time: a second caller waits for the first one's build. */
async function withBuildLock<T>(dir: string, log: (line: string) => void, body: () => Promise<T>): Promise<T> {
  await mkdir(dirname(dir), { recursive: true });
  const lock = `${dir}.lock`;
  for (;;) {
    try {
      await writeFile(lock, String(process.pid), { flag: 'wx' });
      break;
    } catch {
      const owner = Number((await readFile(lock, 'utf8').catch(() => '')).trim());
      if (!owner || !isAlive(owner)) {
        await rm(lock, { force: true });
        continue;
      }
      log(`waiting for the build already running (pid ${owner}): ${dir}`);
      await sleep(5000);
    }
  }
  try {
    return await body();
  } finally {
    await rm(lock, { force: true });
  }
}

async function checkGo(env: NodeJS.ProcessEnv, log: (line: string) => void): Promise<void> {
  try {
    const { stdout } = await run('go', ['version'], { env, timeoutMs: 30_000 });
    log(`using ${stdout.trim()}`);
  } catch {
    throw new Error('Go (>= 1.25) is needed to build the test binaries once, and `go` is not on PATH');
  }
}

/** Whether `go` can be run here (so a missing build can be made). */
export function goAvailable(): boolean {
  const dirs = (process.env.PATH ?? '').split(':');
  return dirs.some((dir) => dir && existsSync(join(dir, 'go')));
}

export function isBuilt(build: Pick<GoBuild, 'dir' | 'marker'>): boolean {
  return existsSync(join(build.dir, build.marker ?? '.complete'));
}

async function runBuild(build: GoBuild, log: (line: string) => void): Promise<void> {
  const { dir, what } = build;
  const started = Date.now();
  const partial = `${dir}.partial`;
  await rm(partial, { recursive: true, force: true });
  await mkdir(partial, { recursive: true });
  const logPath = `${dir}.build.log`;
  const logFile = createWriteStream(logPath);
  const commands = build.commands(partial);
  await checkGo(commands[0]?.env ?? goEnv(), log);
  log(
    `building ${what} from the Go module proxy (first run only${build.expected ? `; ${build.expected}` : ''}; log: ${logPath})`,
  );
  try {
    for (const command of commands) {
      let total = 0;
      if (command.progressOf) {
        log('resolving packages (downloads modules through the Go proxy on a fresh machine)...');
        const heartbeat = setInterval(
          () => log(`still resolving, ${formatDuration(Date.now() - started)} elapsed`),
          15_000,
        );
        const { stdout } = await run('go', ['list', '-deps', ...command.progressOf], {
          cwd: command.cwd,
          env: command.env,
          timeoutMs: 30 * 60_000,
        }).finally(() => clearInterval(heartbeat));
        total = stdout.split('\n').filter(Boolean).length;
      }
      logFile.write(`$ go ${command.args.join(' ')}\n`);
      let lines = 0;
      let lastReport = Date.now();
      const report = (): void => {
        lastReport = Date.now();
        const counted = total
          ? `: ${lines}/${total} packages (${Math.min(99, Math.round((lines / total) * 100))}%)`
          : '';
        log(`build${counted}, ${formatDuration(Date.now() - started)} elapsed`);
      };
      const heartbeat = setInterval(() => {
        if (Date.now() - lastReport >= 15_000) report();
      }, 15_000);
      const code = await runStreaming('go', command.args, {
        cwd: command.cwd,
        env: command.env,
        onLine: (line) => {
          logFile.write(`${line}\n`);
          lines++;
        },
      }).finally(() => clearInterval(heartbeat));
      if (code !== 0) {
        await new Promise<void>((r) => logFile.end(r));
        const tail = (await readFile(logPath, 'utf8')).trim().split('\n').slice(-30).join('\n');
        throw new Error(`${what}: build failed (go exit ${code}); last lines of ${logPath}:\n${tail}`);
      }
    }
    await build.finish?.(partial);
  } catch (error) {
    logFile.end();
    await rm(partial, { recursive: true, force: true });
    throw error;
  }
  await new Promise<void>((r) => logFile.end(r));
  await writeFile(join(partial, '.complete'), `${what}\n`);
  await rm(dir, { recursive: true, force: true });
  await rename(partial, dir);
  log(`${what} built in ${formatDuration(Date.now() - started)} -> ${dir}`);
}

/** The build's directory, built first (once per machine) if it is not there. */
export async function ensureGoBuild(build: GoBuild): Promise<string> {
  if (isBuilt(build)) return build.dir;
  const log = build.log ?? clusterLog;
  await withBuildLock(build.dir, log, async () => {
    if (!isBuilt(build)) await runBuild(build, log);
  });
  return build.dir;
}
