// A real npm registry on loopback for the release and install tests: Verdaccio 6 (the npm package),
// installed once per machine from the npm registry with the lock file in install/ into
// ~/.cache/adci/verdaccio-<version>-<hash>/ (ADCI_CACHE_DIR overrides; built in `<dir>.partial` and
// renamed when complete), then started per test on a free 127.0.0.1 port with its own storage, no
// uplink (it serves only what the test publishes) and one user whose token publishes.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

const here = import.meta.dirname;

export function verdaccioVersion(): string {
  const manifest = JSON.parse(readFileSync(join(here, 'install', 'package.json'), 'utf8')) as {
    dependencies: { verdaccio: string };
  };
  return manifest.dependencies.verdaccio;
}

function cacheDir(): string {
  const hash = createHash('sha256')
    .update(readFileSync(join(here, 'install', 'package.json')))
    .update(readFileSync(join(here, 'install', 'package-lock.json')))
    .digest('hex')
    .slice(0, 12);
  const root = process.env.ADCI_CACHE_DIR ?? join(homedir(), '.cache', 'adci');
  return join(root, `verdaccio-${verdaccioVersion()}-${hash}`);
}

/** The Verdaccio entry script, installed first if missing (`npm ci` of test/registry's lock file). */
export function ensureVerdaccio(log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): string {
  const dir = cacheDir();
  const bin = join(dir, 'node_modules', 'verdaccio', 'bin', 'verdaccio');
  if (existsSync(bin)) return bin;
  const partial = `${dir}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  copyFileSync(join(here, 'install', 'package.json'), join(partial, 'package.json'));
  copyFileSync(join(here, 'install', 'package-lock.json'), join(partial, 'package-lock.json'));
  log(`verdaccio: installing ${verdaccioVersion()} into ${dir} (once per machine)`);
  execFileSync('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: partial,
    stdio: ['ignore', 'ignore', 'inherit'],
    timeout: 300_000,
  });
  try {
    renameSync(partial, dir);
  } catch (error) {
    // Another process finished first: use its copy.
    rmSync(partial, { recursive: true, force: true });
    if (!existsSync(bin)) throw error;
  }
  return bin;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface Registry {
  /** e.g. http://127.0.0.1:4873/ (with the trailing slash npm prints) */
  url: string;
  /** A token of the registry's user, allowed to publish. */
  token: string;
  /** A user config (.npmrc) with the registry and the token, for npm's --userconfig. */
  userconfig: string;
  /** The packument of a package, as npm reads it. */
  packument(
    name: string,
  ): Promise<{ versions: Record<string, { dist: { integrity: string; tarball: string } }> } | undefined>;
  /** Verdaccio's own log. */
  log(): string;
  close(): Promise<void>;
}

export async function startVerdaccio(): Promise<Registry> {
  const bin = ensureVerdaccio();
  const dir = mkdtempSync(join(tmpdir(), 'adci-verdaccio-'));
  const config = join(dir, 'config.yaml');
  writeFileSync(
    config,
    [
      `storage: ${JSON.stringify(join(dir, 'storage'))}`,
      'auth:',
      '  htpasswd:',
      `    file: ${JSON.stringify(join(dir, 'htpasswd'))}`,
      '    max_users: 10',
      'uplinks: {}',
      'packages:',
      "  '**':",
      '    access: $all',
      '    publish: $authenticated',
      '    unpublish: $authenticated',
      'log: { type: stdout, format: pretty, level: warn }',
      '',
    ].join('\n'),
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  let output = '';
  const child: ChildProcess = spawn(process.execPath, [bin, '--config', config, '--listen', `127.0.0.1:${port}`], {
    cwd: dir,
    env: { PATH: process.env.PATH, HOME: dir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (c: Buffer) => (output += c.toString('utf8')));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString('utf8')));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`verdaccio exited (${child.exitCode}):\n${output}`);
    try {
      if ((await fetch(`${url}-/ping`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`verdaccio did not answer on ${url} within 60 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const user = 'release-bot';
  const response = await fetch(`${url}-/user/org.couchdb.user:${user}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: user, password: `pw-${Date.now()}-${process.pid}`, type: 'user', roles: [] }),
  });
  const { token } = (await response.json()) as { token?: string };
  if (!response.ok || !token) throw new Error(`verdaccio refused the user (${response.status}):\n${output}`);
  const userconfig = join(dir, 'npmrc');
  writeFileSync(userconfig, `registry=${url}\n//127.0.0.1:${port}/:_authToken=${token}\n`, { mode: 0o600 });
  return {
    url,
    token,
    userconfig,
    async packument(name) {
      const answer = await fetch(`${url}${name.replace('/', '%2f')}`, { headers: { accept: 'application/json' } });
      if (answer.status === 404) return undefined;
      if (!answer.ok) throw new Error(`GET ${name}: ${answer.status}`);
      return (await answer.json()) as Awaited<ReturnType<Registry['packument']>>;
    },
    log: () => output,
    async close() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A registry holding this checkout's package: Verdaccio started, `npm pack` of the repository
 * published to it (what release.yml publishes). Returns the registry, the tarball's npm integrity and
 * the directory of the tarball (the caller removes it and closes the registry).
 */
export async function publishToLocalRegistry(): Promise<{ registry: Registry; integrity: string; packDir: string }> {
  const root = join(here, '..', '..');
  const registry = await startVerdaccio();
  const packDir = mkdtempSync(join(tmpdir(), 'adci-pack-'));
  const [packed] = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--pack-destination', packDir], { cwd: root, encoding: 'utf8' }),
  ) as { filename: string; integrity: string }[];
  if (!packed) throw new Error('npm pack made no tarball');
  execFileSync('npm', ['publish', join(packDir, packed.filename), '--access', 'public', '--registry', registry.url], {
    cwd: packDir,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, NPM_CONFIG_USERCONFIG: registry.userconfig },
  });
  return { registry, integrity: packed.integrity, packDir };
}

if (import.meta.main) {
  // `node test/registry/verdaccio.ts` installs (or finds) Verdaccio and prints its entry script.
  process.stdout.write(`${ensureVerdaccio()}\n`);
}
