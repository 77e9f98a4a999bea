// Resident memory of a running cluster, from /proc: each component (a session leader, see
// processes.ts) and the pod processes the kubelet started (they stay in its session); and the
// CPU time they used.
import { readdirSync, readFileSync } from 'node:fs';
import { isRunning, type PidRecord } from './processes.ts';

export interface ClusterMemory {
  /** VmRSS of each running component, KiB. */
  components: Record<string, number>;
  componentsKib: number;
  /** Processes in the components' sessions other than the components: pods' containers (and `ip`). */
  podProcesses: number;
  podsKib: number;
  totalKib: number;
}

function rssKib(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : 0;
  } catch {
    return undefined;
  }
}

/** The fields of /proc/<pid>/stat after "(comm)": [0] state, [1] ppid, [2] pgrp, [3] session, … */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

function sessionOf(pid: number): number | undefined {
  const fields = statFields(pid);
  return fields ? Number(fields[3]) : undefined;
}

/** Pids of the processes in the sessions of these leaders, leaders excluded. */
function sessionMembers(leaders: Set<number>): number[] {
  const members: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (leaders.has(pid)) continue;
    const session = sessionOf(pid);
    if (session !== undefined && leaders.has(session)) members.push(pid);
  }
  return members;
}

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on Linux). */
const ticksPerSecond = 100;

/**
 * CPU seconds (user + system) the cluster's processes used so far: each component with its
 * reaped children (the `ip` commands, exec probes), and the live pod processes.
 */
export function clusterCpuSeconds(records: PidRecord[]): number {
  const leaders = new Set(records.filter(isRunning).map((r) => r.pid));
  let ticks = 0;
  for (const pid of leaders) {
    const f = statFields(pid);
    // utime stime cutime cstime are fields 14-17 of the whole line: [11]..[14] here.
    if (f) ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
  }
  for (const pid of sessionMembers(leaders)) {
    const f = statFields(pid);
    if (f) ticks += Number(f[11]) + Number(f[12]);
  }
  return ticks / ticksPerSecond;
}

export function clusterMemory(records: PidRecord[]): ClusterMemory {
  const running = records.filter(isRunning);
  const leaders = new Set(running.map((r) => r.pid));
  const components: Record<string, number> = {};
  for (const r of running) {
    const rss = rssKib(r.pid);
    if (rss !== undefined) components[r.name] = rss;
  }
  let podProcesses = 0;
  let podsKib = 0;
  for (const pid of sessionMembers(leaders)) {
    const rss = rssKib(pid);
    if (rss === undefined) continue;
    podProcesses++;
    podsKib += rss;
  }
  const componentsKib = Object.values(components).reduce((a, b) => a + b, 0);
  return { components, componentsKib, podProcesses, podsKib, totalKib: componentsKib + podsKib };
}
