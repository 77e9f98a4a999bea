// Background processes of the cluster. Each runs in its own session with output to a log
// file, and is recorded in a pid file with its kernel start time, so `down` (or a later `up`
// that finds stale state) stops exactly what was started and never a recycled pid.
import { spawn } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ClusterPaths } from './config.ts';
import { sleep } from './run.ts';

export interface PidRecord {
  name: string;
  pid: number;
  startTime: string;
  command: string[];
  order: number;
}

function procStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; starttime is field 22 overall.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const state = rest[0];
    if (state === 'Z' || state === 'X') return undefined;
    return rest[19];
  } catch {
    return undefined;
  }
}

export function isRunning(record: PidRecord): boolean {
  return procStartTime(record.pid) === record.startTime;
}

export async function startProcess(
  paths: ClusterPaths,
  name: string,
  order: number,
  file: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<PidRecord> {
  await mkdir(paths.logs, { recursive: true });
  await mkdir(paths.pids, { recursive: true });
  const logPath = join(paths.logs, `${name}.log`);
  const fd = openSync(logPath, 'a');
  const child = spawn(file, args, { detached: true, stdio: ['ignore', fd, fd], env });
  closeSync(fd);
  const pid = child.pid;
  if (pid === undefined) {
    throw new Error(`could not start ${name} (${file})`);
  }
  child.unref();
  const startTime = procStartTime(pid);
  if (startTime === undefined) {
    throw new Error(`${name} exited immediately; see ${logPath}`);
  }
  const record: PidRecord = { name, pid, startTime, command: [file, ...args], order };
  await writeFile(join(paths.pids, `${name}.json`), `${JSON.stringify(record)}\n`);
  return record;
}

export async function readPidRecords(paths: ClusterPaths): Promise<PidRecord[]> {
  let files: string[];
  try {
    files = await readdir(paths.pids);
  } catch {
    return [];
  }
  const records: PidRecord[] = [];
  for (const f of files.filter((x) => x.endsWith('.json'))) {
    try {
      records.push(JSON.parse(await readFile(join(paths.pids, f), 'utf8')) as PidRecord);
    } catch {
      // A torn pid file from a crashed `up` holds nothing we can act on.
    }
  }
  return records.sort((a, b) => a.order - b.order);
}

function signal(record: PidRecord, sig: NodeJS.Signals): void {
  if (!isRunning(record)) return;
  // The process leads its own session and group; signal the group, then the leader.
  for (const target of [-record.pid, record.pid]) {
    try {
      process.kill(target, sig);
    } catch {
      // Already gone.
    }
  }
}

/** SIGTERM, then SIGKILL after the grace period; returns once the process is gone. */
export async function stopProcess(paths: ClusterPaths, record: PidRecord, graceMs = 10_000): Promise<void> {
  signal(record, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isRunning(record) && Date.now() < deadline) await sleep(100);
  if (isRunning(record)) {
    signal(record, 'SIGKILL');
    const killDeadline = Date.now() + 5000;
    while (isRunning(record) && Date.now() < killDeadline) await sleep(50);
  }
  await rm(join(paths.pids, `${record.name}.json`), { force: true });
}

export async function tailLog(paths: ClusterPaths, name: string, lines = 25): Promise<string> {
  try {
    const text = await readFile(join(paths.logs, `${name}.log`), 'utf8');
    return text.trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
