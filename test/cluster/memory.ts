// Resident memory of a running cluster, from /proc: each component (a session leader, see
// processes.ts) and the pod processes the kubelet started (they stay in its session).
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

function sessionOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // After "(comm)": state ppid pgrp session ...
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[3]);
  } catch {
    return undefined;
  }
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
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (leaders.has(pid)) continue;
    const session = sessionOf(pid);
    if (session === undefined || !leaders.has(session)) continue;
    const rss = rssKib(pid);
    if (rss === undefined) continue;
    podProcesses++;
    podsKib += rss;
  }
  const componentsKib = Object.values(components).reduce((a, b) => a + b, 0);
  return { components, componentsKib, podProcesses, podsKib, totalKib: componentsKib + podsKib };
}
