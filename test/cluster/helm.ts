// The real `helm` the chart tests run (blue-green-deploy's `chart:` input renders with it, and the
// adoption tests install a release with it): built once per machine from its Go module through the
// Go module proxy (`go install helm.sh/helm/v3/cmd/helm@<version>`, verified by the checksum
// database, like act), cached beside the control plane (gobuild.ts). ADCI_HELM overrides.
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { cacheDir } from './config.ts';
import { ensureGoBuild, goAvailable, goEnv, recipeHash, type GoBuild } from './gobuild.ts';

export const HELM_VERSION = 'v3.22.1';
const HELM_MODULE = 'helm.sh/helm/v3';
const HELM_PACKAGE = `${HELM_MODULE}/cmd/helm`;

function helmBuild(): GoBuild {
  // `helm version` reports the release, as the project's own Makefile sets it.
  const ldflags = `-s -w -X ${HELM_MODULE}/internal/version.version=${HELM_VERSION} -X ${HELM_MODULE}/internal/version.gitTreeState=clean`;
  const args = ['install', '-v', '-trimpath', '-ldflags', ldflags, `${HELM_PACKAGE}@${HELM_VERSION}`];
  const key = recipeHash('.', [], args);
  return {
    what: `helm ${HELM_VERSION}`,
    dir: join(cacheDir, `helm-${HELM_VERSION}-${key}`),
    marker: join('bin', 'helm'),
    expected: 'about 3-5 minutes on 2 cores',
    commands: (partial) => [
      {
        args,
        cwd: tmpdir(),
        // `go install module@version` uses the module's own go.mod and go.sum (-mod=mod).
        env: goEnv({ GOFLAGS: '-mod=mod -buildvcs=false', GOBIN: join(partial, 'bin') }),
      },
    ],
  };
}

/** The helm binary that is there without building (ADCI_HELM, or a finished cached build). */
export function builtHelm(): string | undefined {
  if (process.env.ADCI_HELM) return process.env.ADCI_HELM;
  const binary = join(helmBuild().dir, 'bin', 'helm');
  return existsSync(binary) ? binary : undefined;
}

/** The helm binary, built first (once per machine) if missing. */
export async function ensureHelm(log?: (line: string) => void): Promise<string> {
  const ready = builtHelm();
  if (ready) return ready;
  const dir = await ensureGoBuild({ ...helmBuild(), ...(log ? { log } : {}) });
  return join(dir, 'bin', 'helm');
}

/** The directory to put first on PATH so `helm` is the built one. */
export async function helmBinDir(): Promise<string> {
  return dirname(await ensureHelm());
}

/** Why helm cannot run here (no build and no Go to make one), or undefined. */
export function missingHelmReason(): string | undefined {
  if (builtHelm() || goAvailable()) return undefined;
  return `helm ${HELM_VERSION} is built once from its Go module, and Go is not on PATH`;
}
