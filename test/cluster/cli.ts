// `npm run cluster -- up|down|status|build`: the local Kubernetes the end-to-end tests run against.
import { join } from 'node:path';
import { ensureBinaries } from './build.ts';
import { down, list, status, up } from './cluster.ts';
import { parseClusterArgs } from './config.ts';

const usage = `usage: npm run cluster -- <command> [--name <name>]

  up      build the control plane once (cached), then start etcd, kube-apiserver,
          kube-controller-manager, kube-scheduler, the process kubelet and kube-proxy
  down    stop everything up started, remove pod network namespaces and the bridge
  status  print the kubeconfig paths and the health and memory of each component
  list    the named clusters: slot, loopback address, processes running, memory, kubeconfig
  build   only build (or find in the cache) the binaries: the cluster's, and Prometheus and
          promtool for the monitoring tests, and helm for the chart tests
  monitoring <namespace>...
          in the foreground until Ctrl-C: a real Prometheus scraping the annotated pods of
          those namespaces every second, with the example's alerting rules (what the tests
          start for themselves; see test/cluster/monitoring.ts)

  --name <name>  up, status and down act on a named cluster beside the default one: its own
                 etcd, API server, controllers and node agent on its own loopback address
                 (127.0.0.2, 127.0.0.3, …, where its NodePorts answer), its own bridge, pod and
                 Service CIDRs, state and kubeconfigs in ~/.cache/adci/clusters/<name>/.
                 A name is 1-10 lowercase letters, digits or '-'. Without --name: the default
                 cluster (127.0.0.1, ~/.cache/adci/cluster/).`;

async function main(command: string | undefined): Promise<number> {
  switch (command) {
    case 'up':
      await up(parseClusterArgs(command, process.argv.slice(3)).name);
      return 0;
    case 'down':
      await down(parseClusterArgs(command, process.argv.slice(3)));
      return 0;
    case 'status':
      return (await status(parseClusterArgs(command, process.argv.slice(3)).name)) ? 0 : 1;
    case 'list':
      await list();
      return 0;
    case 'build': {
      const bin = await ensureBinaries();
      const { ensurePrometheus } = await import('./monitoring.ts');
      const prometheus = await ensurePrometheus();
      const { ensureHelm } = await import('./helm.ts');
      const helm = await ensureHelm();
      for (const [name, path] of Object.entries({ ...bin, ...prometheus, helm }))
        console.log(`${name.padEnd(22)} ${path}`);
      return 0;
    }
    case 'monitoring':
      return monitoring(process.argv.slice(3));
    default:
      console.error(usage);
      return command === undefined || command === 'help' || command === '--help' ? 0 : 2;
  }
}

main(process.argv[2]).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`cluster ${process.argv[2] ?? ''}: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);

async function monitoring(namespaces: string[]): Promise<number> {
  if (namespaces.length === 0) {
    console.error('usage: npm run cluster -- monitoring <namespace>...');
    return 2;
  }
  const { startMonitoring } = await import('./monitoring.ts');
  const { paths, repoRoot } = await import('./config.ts');
  const stack = await startMonitoring({
    kubernetes: { kubeconfig: paths.adminKubeconfig, namespaces },
    ruleFiles: [join(repoRoot, 'examples', 'ad-platform', 'deploy', 'monitoring', 'rules.yml')],
  });
  console.log(`Prometheus ${stack.prometheusUrl} (scraping ${namespaces.join(', ')}; Ctrl-C stops it)`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await stack.stop();
  return 0;
}
