// Builds the control plane (kube-apiserver, kube-controller-manager, kube-scheduler, kubectl,
// etcd) from the pinned Go module, and the adci-node agent, into a cache outside the repo
// keyed by version and go.mod/go.sum hash, so only the first run on a machine pays (the
// caching, locking and logging are gobuild.ts's, shared with act's and Prometheus's builds).
import { existsSync, readdirSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import { join } from 'node:path';
import { agentModuleDir, cacheDir, controlPlaneModuleDir, kubernetesVersion } from './config.ts';
import { ensureGoBuild, goEnv, recipeHash, type GoBuild } from './gobuild.ts';

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

export function controlPlaneDir(): string {
  return join(cacheDir, `kubernetes-${kubernetesVersion}-${recipeHash(controlPlaneModuleDir, ['go.mod', 'go.sum'])}`);
}

function agentDir(): string {
  const sources = readdirSync(agentModuleDir)
    .filter((f) => f.endsWith('.go') && !f.endsWith('_test.go'))
    .sort();
  return join(cacheDir, `adci-node-${recipeHash(agentModuleDir, ['go.mod', 'go.sum', ...sources])}`);
}

function controlPlaneBuild(): GoBuild {
  const [major, minor] = kubernetesVersion.replace(/^v/, '').split('.');
  const ldflags = [
    '-s',
    '-w',
    `-X k8s.io/component-base/version.gitVersion=${kubernetesVersion}`,
    `-X k8s.io/component-base/version.gitMajor=${major}`,
    `-X k8s.io/component-base/version.gitMinor=${minor}`,
    '-X k8s.io/component-base/version.gitTreeState=clean',
  ].join(' ');
  return {
    what: `Kubernetes ${kubernetesVersion} control plane and etcd`,
    dir: controlPlaneDir(),
    expected: 'about 13 minutes on 2 cores',
    commands: (partial) => [
      {
        args: ['build', '-v', '-trimpath', '-ldflags', ldflags, '-o', `${partial}/`, ...controlPlanePackages],
        cwd: controlPlaneModuleDir,
        env: goEnv(),
        progressOf: controlPlanePackages,
      },
    ],
    finish: (partial) => rename(join(partial, 'server'), join(partial, 'etcd')),
  };
}

function agentBuild(): GoBuild {
  return {
    what: 'adci-node (process kubelet and kube-proxy)',
    dir: agentDir(),
    marker: 'adci-node',
    commands: (partial) => [
      {
        args: ['build', '-trimpath', '-ldflags', '-s -w', '-o', join(partial, 'adci-node'), '.'],
        cwd: agentModuleDir,
        env: goEnv(),
      },
    ],
  };
}

export async function ensureBinaries(): Promise<Binaries> {
  const cp = await ensureGoBuild(controlPlaneBuild());
  const agent = await ensureGoBuild(agentBuild());
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
