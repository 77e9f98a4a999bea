// `adci smoke`: the probe engine (checks, captures, load phase, thresholds) from GitLab CI,
// Jenkins or a terminal, with the same checks file as the smoke-test action.
// The options are declared here; the engine is loaded only when the command runs (smoke-run.ts).
import type { Command } from 'commander';
import type { SmokeOptions } from './smoke-run.ts';

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function registerSmoke(program: Command): void {
  program
    .command('smoke')
    .description('run HTTP smoke checks and an optional load phase against a service (exit 1 on failure)')
    .option(
      '--base-url <url>',
      "base URL of the service; check paths are joined to it (required unless --merge, or an --artillery scenario's config.target gives it)",
    )
    .option('--checks <yaml>', 'checks as inline YAML (the checks-file shape)')
    .option('--checks-file <path>', 'YAML or JSON checks file')
    .option(
      '--artillery <path>',
      'an Artillery scenario file run as the load phase (its config.target is the base URL unless --base-url is given)',
    )
    .option('--wait-for <path>', 'path polled until it answers 2xx before any check runs')
    .option('--wait-timeout <duration>', 'how long to wait for --wait-for', '5m')
    .option('--wait-interval <duration>', 'pause between wait attempts and check retries', '2s')
    .option('--retries <n>', 'extra attempts for a failing check', '0')
    .option('--timeout <duration>', 'time limit of each request', '10s')
    .option(
      '--headers <yaml>',
      'headers for every request, as a YAML/JSON map (prefer {{ env.NAME }} in a checks file for secrets)',
      '',
    )
    .option('--fail-fast', 'stop at the first failed check', false)
    .option('--junit-file <path>', 'write the results as JUnit XML')
    .option('--report-file <path>', 'write the JSON report')
    .option('--insecure-tls', 'accept any TLS certificate', false)
    .option(
      '--max-body <size>',
      'largest response body read for assertions, e.g. 8MiB, 512KiB or bytes (default 4MiB); a longer one fails as truncated',
    )
    .option('--load-rate <rate>', 'open-model arrival rate, e.g. 200/s')
    .option('--load-connections <n>', 'closed model: connections sending as fast as possible')
    .option('--load-duration <duration>', 'length of the load phase, e.g. 30s')
    .option('--load-max-in-flight <n>', 'open-model cap on concurrent requests (beyond it arrivals are dropped)')
    .option('--load-path <path>', 'path requested by the load phase')
    .option('--load-threshold <expr>', 'threshold such as p(95)<300ms (repeatable)', collect, [])
    .option('--load-abort-on-fail', 'stop the load phase when a threshold is breached')
    .option('--load-start-at <time>', 'start the load phase at this ISO 8601 time (after the checks), e.g. for shards')
    .option('--shard <i/n>', 'run shard i of n of the load phase and write its results to --shard-dir')
    .option('--shard-dir <dir>', 'directory for the shard result files', 'adci-shards')
    .option('--merge <dir-or-glob>', 'merge shard result files and judge the load thresholds on them (no requests)')
    .option(
      '--analysis <file>',
      'metric analysis file run against Prometheus alongside the checks and the load phase (fails the run when it fails)',
    )
    .option(
      '--prometheus-url <url>',
      "Prometheus for the analysis (overrides the file's prometheus:); token from ADCI_PROMETHEUS_TOKEN",
    )
    .option('--analysis-vars <yaml>', 'placeholder values for the analysis file, a YAML mapping')
    .option('--json', 'print the result object as JSON', false)
    .option('--verbose', 'log each wait attempt and load second', false)
    .action(async (options: SmokeOptions) => {
      // The probe engine (undici, the histogram library) loads only when this command runs.
      const { runSmokeAction } = await import('./smoke-run.ts');
      await runSmokeAction(options);
    });
}
