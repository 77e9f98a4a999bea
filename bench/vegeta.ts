// vegeta (github.com/tsenart/vegeta, MIT), the open-model anchor of the load bench while k6 cannot
// be used here: a constant-rate HTTP load generator in Go that sends at the rate whatever the
// responses. Built once per machine from the Go module proxy into ~/.cache/adci/vegeta-<version>/
// (test/cluster/gobuild.ts: a private directory renamed into place when complete), when `go` is
// there; the bench skips its figure with a message otherwise. Never built by `npm test`.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureGoBuild, goAvailable } from '../test/cluster/gobuild.ts';

export const VEGETA_VERSION = 'v12.13.0';
const VEGETA_MODULE = 'github.com/tsenart/vegeta/v12';

function vegetaDir(): string {
  return join(process.env.ADCI_CACHE_DIR ?? join(homedir(), '.cache', 'adci'), `vegeta-${VEGETA_VERSION}`);
}

/** The vegeta binary (built first when `go` is there), or why there is none. */
export async function ensureVegeta(): Promise<{ binary?: string; unavailable?: string }> {
  const binary = join(vegetaDir(), 'bin', 'vegeta');
  if (existsSync(binary)) return { binary };
  if (!goAvailable()) return { unavailable: `vegeta ${VEGETA_VERSION} is not built and \`go\` is not on PATH` };
  try {
    await ensureGoBuild({
      what: `vegeta ${VEGETA_VERSION}`,
      dir: vegetaDir(),
      marker: join('bin', 'vegeta'),
      expected: 'about a minute',
      log: (line) => process.stderr.write(`vegeta: ${line}\n`),
      commands: (partial) => [
        {
          args: ['install', `${VEGETA_MODULE}@${VEGETA_VERSION}`],
          cwd: tmpdir(),
          env: { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-mod=mod', GOBIN: join(partial, 'bin') },
        },
      ],
    });
    return { binary };
  } catch (error) {
    return { unavailable: `vegeta ${VEGETA_VERSION} could not be built: ${(error as Error).message.split('\n')[0]}` };
  }
}

export interface ChildRun {
  /** User + system CPU of the command and its children, in microseconds. */
  cpuUs: number;
  stdout: string;
}

/**
 * Runs `command args` to the end and measures its CPU: through bash's `times`, which reports the
 * children's user and system time (Node exposes no child rusage). Arguments are passed as
 * positional parameters, never spliced into the script.
 */
export function runMeasured(command: string, args: string[]): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', '"$@" >/dev/null || exit $?; times', 'measured', command, ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`${command} exited with ${code}`));
      // `times` prints the shell's own times, then its children's: "0m1.234s 0m0.567s".
      const lines = stdout.trim().split('\n');
      const children = /(\d+)m([\d.]+)s\s+(\d+)m([\d.]+)s/.exec(lines[lines.length - 1] ?? '');
      if (!children) return reject(new Error(`no times in: ${stdout}`));
      const [, um, us, sm, ss] = children.map(Number) as [number, number, number, number, number];
      resolve({ cpuUs: (um * 60 + us + sm * 60 + ss) * 1e6, stdout });
    });
  });
}
