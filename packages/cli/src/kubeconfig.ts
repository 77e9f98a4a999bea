// Where `adci deploy` finds its kubeconfig, checked before the Kubernetes client loads: KUBECONFIG
// (every file it names must exist), else ~/.kube/config, else the in-cluster service account. When
// none is there, the error (exit 2) says where it looked and how to give one, instead of the client's
// defaults (an anonymous http://localhost:8080) failing later with an unrelated message.
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { InputError } from '@adci/common/basics';

const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

export interface KubeconfigSource {
  source: 'KUBECONFIG' | '~/.kube/config' | 'in-cluster';
  paths: string[];
}

export function locateKubeconfig(
  env: NodeJS.ProcessEnv,
  home: string,
  exists: (path: string) => boolean = existsSync,
): KubeconfigSource {
  const listed = (env.KUBECONFIG ?? '').split(delimiter).filter(Boolean);
  if (listed.length > 0) {
    const missing = listed.filter((path) => !exists(path));
    if (missing.length > 0)
      throw new InputError(
        'KUBECONFIG',
        `KUBECONFIG names ${missing.join(', ')}, which does not exist${missing.length > 1 ? ' (each)' : ''}. ` +
          'Set KUBECONFIG to the path of a kubeconfig file (GitLab: a variable of type File; Jenkins: ' +
          'withCredentials([file(credentialsId: …, variable: "KUBECONFIG")])).',
      );
    return { source: 'KUBECONFIG', paths: listed };
  }
  const homeConfig = join(home, '.kube', 'config');
  if (exists(homeConfig)) return { source: '~/.kube/config', paths: [homeConfig] };
  if (env.KUBERNETES_SERVICE_HOST && env.KUBERNETES_SERVICE_PORT && exists(SERVICE_ACCOUNT_TOKEN))
    return { source: 'in-cluster', paths: [] };
  throw new Error(
    `no kubeconfig found: KUBECONFIG is not set, ${homeConfig} does not exist, and this is not in a pod ` +
      `(no in-cluster service account). Give one with KUBECONFIG=/path/to/kubeconfig (GitLab: a variable of ` +
      `type File; Jenkins: withCredentials file) or write ~/.kube/config.`,
  );
}
