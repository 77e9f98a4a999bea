// Builds the control plane (kube-apiserver, kube-controller-manager, kube-scheduler, kubectl,
// etcd) from the pinned Go module, and the adci-node agent, into a cache outside the repo
// keyed by version and go.mod/go.sum hash, so only the first run on a machine pays.
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { agentModuleDir, cacheDir, controlPlaneModuleDir, kubernetesVersion } from './config.ts';
import { log, run, runStreaming, sleep } from './run.ts';

export interface Binaries {
  kubeApiserver: string;
  kubeControllerManager: string;
  kubeScheduler: string;
  kubectl: string;
  etcd: string;
  adciNode: string;
}

const controlPlanePackages = [
  'k8s.io/kubernetes/cmd/kube-apiserver',
  'k8s.io/kubernetes/cmd/kube-controller-manager',
  'k8s.io/kubernetes/cmd/kube-scheduler',
  'k8s.io/kubernetes/cmd/kubectl',
  // etcd's server module has `package main` at its root; `go build -o dir/` names it "server".
  'go.etcd.io/etcd/server/v3',
];
const controlPlaneBinaries = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubectl', 'etcd'];

function goEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    CGO_ENABLED: '0',
    GOTOOLCHAIN: 'local',
    GOFLAGS: '-mod=readonly -buildvcs=false',
  };
}

async function hashFiles(dir: string, names: string[]): Promise<string> {
  const hash = createHash('sha256');
  for (const name of names) hash.update(await readFile(join(dir, name)));
  return hash.digest('hex').slice(0, 12);
}

export async function controlPlaneDir(): Promise<string> {
  const key = await hashFiles(controlPlaneModuleDir, ['go.mod', 'go.sum']);
  return join(cacheDir, `kubernetes-${kubernetesVersion}-${key}`);
}

async function agentDir(): Promise<string> {
  const sources = (await readdir(agentModuleDir)).filter((f) => f.endsWith('.go') && !f.endsWith('_test.go')).sort();
  const key = await hashFiles(agentModuleDir, ['go.mod', 'go.sum', ...sources]);
  return join(cacheDir, `adci-node-${key}`);
}

async function checkGo(): Promise<void> {
  try {
    const { stdout } = await run('go', ['version'], { env: goEnv(), timeoutMs: 30_000 });
    log(`using ${stdout.trim()}`);
  } catch {
    throw new Error('Go (>= 1.25) is needed to build the control plane once, and `go` is not on PATH');
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** One build per cache directory at a time: a second `up` waits for the first one's build. */
async function withBuildLock<T>(dir: string, body: () => Promise<T>): Promise<T> {
  await mkdir(cacheDir, { recursive: true });
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
      log(`waiting for the build already running (pid ${owner})`);
      await sleep(5000);
    }
  }
  try {
    return await body();
  } finally {
    await rm(lock, { force: true });
  }
}

function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

async function buildControlPlane(dir: string): Promise<void> {
  await checkGo();
  const started = Date.now();
  const partial = `${dir}.partial`;
  await rm(partial, { recursive: true, force: true });
  await mkdir(partial, { recursive: true });
  const logPath = `${dir}.build.log`;
  const logFile = createWriteStream(logPath);
  log(`building Kubernetes ${kubernetesVersion} control plane and etcd from source (first run only; log: ${logPath})`);
  log('resolving packages (downloads modules through the Go proxy on a fresh machine)...');
  const heartbeat = setInterval(() => log(`still resolving, ${formatDuration(Date.now() - started)} elapsed`), 15_000);
  const { stdout } = await run('go', ['list', '-deps', ...controlPlanePackages], {
    cwd: controlPlaneModuleDir,
    env: goEnv(),
    timeoutMs: 30 * 60_000,
  }).finally(() => clearInterval(heartbeat));
  const total = stdout.split('\n').filter(Boolean).length;
  const [major, minor] = kubernetesVersion.replace(/^v/, '').split('.');
  const ldflags = [
    '-s',
    '-w',
    `-X k8s.io/component-base/version.gitVersion=${kubernetesVersion}`,
    `-X k8s.io/component-base/version.gitMajor=${major}`,
    `-X k8s.io/component-base/version.gitMinor=${minor}`,
    '-X k8s.io/component-base/version.gitTreeState=clean',
  ].join(' ');
  let compiled = 0;
  let lastReport = Date.now();
  const code = await runStreaming(
    'go',
    ['build', '-v', '-trimpath', '-ldflags', ldflags, '-o', `${partial}/`, ...controlPlanePackages],
    {
      cwd: controlPlaneModuleDir,
      env: goEnv(),
      onLine: (line) => {
        logFile.write(`${line}\n`);
        compiled++;
        if (Date.now() - lastReport > 15_000) {
          lastReport = Date.now();
          const pct = Math.min(99, Math.round((compiled / total) * 100));
          log(`build: ${compiled}/${total} packages (${pct}%), ${formatDuration(Date.now() - started)} elapsed`);
        }
      },
    },
  );
  await new Promise<void>((r) => logFile.end(r));
  if (code !== 0) {
    const tail = (await readFile(logPath, 'utf8')).trim().split('\n').slice(-30).join('\n');
    throw new Error(`control plane build failed (exit ${code}); last lines of ${logPath}:\n${tail}`);
  }
  await rename(join(partial, 'server'), join(partial, 'etcd'));
  await writeFile(join(partial, '.complete'), `${kubernetesVersion}\n`);
  await rm(dir, { recursive: true, force: true });
  await rename(partial, dir);
  log(`control plane built in ${formatDuration(Date.now() - started)} -> ${dir}`);
}

async function buildAgent(dir: string): Promise<void> {
  await checkGo();
  const started = Date.now();
  const partial = `${dir}.partial`;
  await rm(partial, { recursive: true, force: true });
  await mkdir(partial, { recursive: true });
  log('building adci-node (process kubelet and kube-proxy)...');
  await run('go', ['build', '-trimpath', '-ldflags', '-s -w', '-o', join(partial, 'adci-node'), '.'], {
    cwd: agentModuleDir,
    env: goEnv(),
    timeoutMs: 30 * 60_000,
  });
  await rm(dir, { recursive: true, force: true });
  await rename(partial, dir);
  log(`adci-node built in ${formatDuration(Date.now() - started)}`);
}

export async function ensureBinaries(): Promise<Binaries> {
  const cp = await controlPlaneDir();
  if (!existsSync(join(cp, '.complete'))) {
    await withBuildLock(cp, async () => {
      if (!existsSync(join(cp, '.complete'))) await buildControlPlane(cp);
    });
  }
  const agent = await agentDir();
  if (!existsSync(join(agent, 'adci-node'))) {
    await withBuildLock(agent, async () => {
      if (!existsSync(join(agent, 'adci-node'))) await buildAgent(agent);
    });
  }
  for (const name of controlPlaneBinaries) {
    if (!existsSync(join(cp, name))) throw new Error(`${join(cp, name)} is missing; remove ${cp} to rebuild`);
  }
  return {
    kubeApiserver: join(cp, 'kube-apiserver'),
    kubeControllerManager: join(cp, 'kube-controller-manager'),
    kubeScheduler: join(cp, 'kube-scheduler'),
    kubectl: join(cp, 'kubectl'),
    etcd: join(cp, 'etcd'),
    adciNode: join(agent, 'adci-node'),
  };
}
