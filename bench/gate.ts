// Report parsing at scale, each side in its own child process (CPU time of the parse, peak RSS
// of the process), against a baseline measured in the same run: the gate's streaming XML scanner
// against fast-xml-parser reading the same file whole, on a generated 500 MB Maven Surefire file
// (200,000 test cases with large system-out logs) and a 200 MB Cobertura file; its LCOV reader
// against the lcov-parse package on a 100 MB LCOV file; its SARIF reader against a plain
// JSON.parse of the same 50 MB file (the floor: the reader parses the document, then walks it).
// Then a 2 GB Surefire file, which no whole-file parser can hold in one string, must stay under
// the same memory bound. Files are stream-written to bench/.data and deleted.
// (MB here is 2^20 bytes, as the file sizes; 1 GB/s is 1024 MB/s.)
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { scalarText } from '@adci/common';
import type { LcovFile } from 'lcov-parse';
import type { BenchFigure } from './figures.ts';

const MB = 1024 * 1024;
const ROOT = join(import.meta.dirname, '..');
const DATA = join(import.meta.dirname, '.data');
const CHILD = join(DATA, 'gate-child');
/** Surefire: streaming throughput, in MB (2^20 bytes) of report per second of CPU. */
const SUREFIRE_MB_PER_S_TARGET = 1024;
/** Cobertura: how many times faster than fast-xml-parser. */
const COBERTURA_SPEED_TARGET = 10;
/** LCOV: how many times faster than lcov-parse. */
const LCOV_SPEED_TARGET = 5;
/**
 * SARIF: at most this many times a bare JSON.parse of the same file. The document is parsed
 * whole (SARIF is one JSON value), so the parse is the floor and the walk over it the rest.
 */
const SARIF_TIME_TARGET = 1.5;
/** SARIF is read whole, like the baseline: at most this much more peak memory. */
const SARIF_MEMORY_TARGET = 1.25;
/** Peak RSS of the streaming readers (Surefire, Cobertura, LCOV, 2 GB Surefire). */
const MEMORY_LIMIT_MB = 150;
const OUR_RUNS = 3;
const BASELINE_RUNS = 2;

type Kind = 'junit' | 'cobertura' | 'lcov' | 'sarif';
type Side = 'ours' | 'base';

interface ChildResult {
  /** Wall time of the parse. */
  ms: number;
  /** CPU time (user + system) of the parse: what the figures use, the machine being shared. */
  cpuMs: number;
  rssMb: number;
  /** What was extracted, to check both sides read the same thing. */
  tests?: number;
  failures?: number;
  coveredLines?: number;
  coverableLines?: number;
  files?: number;
  findings?: number;
}

/** Writes `size` bytes of XML in 1 MiB pieces, never holding the file in memory. */
export function generate(
  kind: 'surefire' | 'cobertura' | 'lcov' | 'sarif',
  path: string,
  size: number,
  testcases = 200_000,
): void {
  const fd = openSync(path, 'w');
  let written = 0;
  let pending: string[] = [];
  let pendingLength = 0;
  const write = (text: string): void => {
    pending.push(text);
    pendingLength += text.length;
    if (pendingLength >= MB) flush();
  };
  const flush = (): void => {
    const bytes = Buffer.from(pending.join(''), 'utf8');
    writeSync(fd, bytes);
    written += bytes.length;
    pending = [];
    pendingLength = 0;
  };
  if (kind === 'surefire') {
    const log = '2026-11-27 01:02:03.456 INFO  [main] c.e.ads.BidService - bid=0.42 campaign=17 &amp; <ok>\n';
    const perCase = size / testcases;
    write('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n');
    for (let i = 0; i < testcases; i++) {
      if (i % 1000 === 0) {
        if (i > 0) write('</testsuite>\n');
        write(`<testsuite name="com.example.ads.Suite${i / 1000}" tests="1000" failures="10" time="1,012.5">\n`);
      }
      write(
        `<testcase name="bidsWithinBudget${i}" classname="com.example.ads.Suite${Math.floor(i / 1000)}" time="0.${i % 997}">\n`,
      );
      if (i % 97 === 0) {
        write(
          `<failure message="expected: &lt;0.42&gt; but was: &lt;0.43&gt;" type="org.opentest4j.AssertionFailedError">` +
            `<![CDATA[org.opentest4j.AssertionFailedError: expected: <0.42> but was: <0.43>\n\tat com.example.ads.BidTest.bids(BidTest.java:${i % 400})\n]]></failure>\n`,
        );
      } else if (i % 101 === 0) {
        write('<skipped message="disabled in CI"/>\n');
      } else if (i % 103 === 0) {
        write(
          '<flakyFailure message="timeout" type="java.net.SocketTimeoutException"><stackTrace>java.net.SocketTimeoutException: timeout</stackTrace></flakyFailure>\n',
        );
      }
      // Fill the log so the file reaches its size evenly.
      const target = Math.floor((i + 1) * perCase) - (written + pendingLength) - 60;
      write('<system-out><![CDATA[');
      if (target > 0) write(log.repeat(Math.max(1, Math.floor(target / log.length))));
      write(']]></system-out>\n</testcase>\n');
    }
    write('</testsuite>\n</testsuites>\n');
  } else if (kind === 'lcov') {
    // As c8, nyc and genhtml write it: per file SF, FN/FNDA, DA per line, BRDA per branch.
    for (let f = 0; written + pendingLength < size; f++) {
      write(`TN:\nSF:/home/runner/work/ads/ads/src/pkg${Math.floor(f / 100)}/mod${f}.ts\n`);
      write(`FN:1,handler${f}\nFNDA:${f % 7},handler${f}\nFNF:1\nFNH:${f % 7 > 0 ? 1 : 0}\n`);
      for (let l = 1; l <= 400; l++) {
        if (l % 10 === 0) write(`BRDA:${l},0,0,${l % 3}\nBRDA:${l},0,1,${l % 4 === 0 ? '-' : 0}\n`);
        write(`DA:${l},${l % 5}\n`);
      }
      write('LF:400\nLH:320\nBRF:80\nBRH:27\nend_of_record\n');
    }
  } else if (kind === 'sarif') {
    // As CodeQL and Semgrep write it: rules in the driver, results with a location each.
    const rules = Array.from({ length: 50 }, (_, r) => ({
      id: `js/rule-${r}`,
      shortDescription: { text: `Rule ${r}` },
      defaultConfiguration: { level: r % 3 === 0 ? 'error' : 'warning' },
      properties: { 'security-severity': String((r % 10) + 0.5) },
    }));
    write(`{"version":"2.1.0","$schema":"https://json.schemastore.org/sarif-2.1.0.json","runs":[{`);
    write(`"tool":{"driver":{"name":"CodeQL","rules":${JSON.stringify(rules)}}},"results":[\n`);
    for (let i = 0; written + pendingLength < size; i++) {
      const result = {
        ruleId: `js/rule-${i % 50}`,
        ruleIndex: i % 50,
        message: { text: `Unsanitized input from a remote source flows to a sink at step ${i} (see the data flow).` },
        locations: [
          {
            physicalLocation: {
              artifactLocation: { uri: `src/pkg${i % 300}/mod${i % 15000}.ts`, uriBaseId: '%SRCROOT%' },
              region: { startLine: (i % 400) + 1, startColumn: 5, endColumn: 42 },
            },
          },
        ],
        partialFingerprints: { primaryLocationLineHash: `${(i * 2654435761) % 4294967296}:1` },
      };
      write(`${i > 0 ? ',' : ''}${JSON.stringify(result)}\n`);
    }
    write(']}]}\n');
  } else {
    write('<?xml version="1.0" ?>\n<coverage line-rate="0.8" branch-rate="0.5" version="7.6.1" timestamp="1">\n');
    write('<sources><source>/home/runner/work/ads/ads/src</source></sources>\n<packages>\n');
    for (let f = 0; written + pendingLength < size; f++) {
      if (f % 100 === 0) {
        if (f > 0) write('</classes></package>\n');
        write(`<package name="ads.pkg${f / 100}" line-rate="0.8" branch-rate="0.5" complexity="0"><classes>\n`);
      }
      write(
        `<class name="mod${f}.py" filename="pkg${Math.floor(f / 100)}/mod${f}.py" complexity="0" line-rate="0.8" branch-rate="0.5"><methods/><lines>\n`,
      );
      for (let l = 1; l <= 400; l++) {
        write(
          l % 10 === 0
            ? `<line number="${l}" hits="${l % 3}" branch="true" condition-coverage="50% (1/2)"/>\n`
            : `<line number="${l}" hits="${l % 5}"/>\n`,
        );
      }
      write('</lines></class>\n');
    }
    write('</classes></package>\n</packages>\n</coverage>\n');
  }
  flush();
  closeSync(fd);
}

/**
 * Both sides run as bundled JavaScript, as the action and the CLI ship: run from TypeScript
 * source, Node's type stripping alone would add tens of MB to every child's RSS.
 */
export function buildChild(): string {
  mkdirSync(CHILD, { recursive: true });
  writeFileSync(
    join(CHILD, 'entry.ts'),
    "import { childMain } from '../../gate.ts';\n" +
      'const [side, kind, file] = process.argv.slice(2) as [string, string, string];\n' +
      'await childMain(side, kind, file);\n',
  );
  writeFileSync(
    join(CHILD, 'tsconfig.json'),
    '{ "extends": "../../../tsconfig.json", "include": ["entry.ts", "../../gate.ts"] }\n',
  );
  writeFileSync(join(CHILD, 'package.json'), '{ "type": "module" }\n');
  const ncc = join(ROOT, 'node_modules', '.bin', 'ncc');
  execFileSync(ncc, ['build', join(CHILD, 'entry.ts'), '-o', join(CHILD, 'out'), '-m', '-q', '--target', 'es2022'], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return join(CHILD, 'out', 'index.js');
}

let childScript = '';

/** Runs the bundled child: `node index.js <ours|base> <junit|cobertura|lcov|sarif> <file>`. */
function measure(side: Side, kind: Kind, file: string): ChildResult {
  const child = spawnSync(process.execPath, [childScript, side, kind, file], {
    encoding: 'utf8',
    maxBuffer: 16 * MB,
  });
  if (child.status !== 0) throw new Error(`${side} ${kind} failed: ${child.stderr.slice(-2000)}`);
  return JSON.parse(child.stdout.trim().split('\n').at(-1) as string) as ChildResult;
}

export async function childMain(side: string, kind: string, file: string): Promise<void> {
  const started = performance.now();
  const cpuStarted = process.cpuUsage();
  let result: Omit<ChildResult, 'ms' | 'cpuMs' | 'rssMb'>;
  if (side === 'ours') {
    const { Collector, parseReport } = await import('@adci/reports');
    const collector = new Collector('/home/runner/work/ads/ads');
    await parseReport(file, collector, kind as 'junit' | 'cobertura' | 'lcov' | 'sarif');
    let covered = 0;
    let coverable = 0;
    for (const entry of collector.coverage.values()) {
      for (const state of entry.lines) {
        if (state !== 0) coverable++;
        if (state === 2) covered++;
      }
    }
    result = {
      tests: collector.tests.tests,
      failures: collector.tests.failed,
      coveredLines: covered,
      coverableLines: coverable,
      files: collector.coverage.size,
      findings: collector.findingCounts.get('all')?.total ?? 0,
    };
  } else if (kind === 'lcov') {
    // The baseline: lcov-parse reads the file whole and returns every record's lines and branches.
    const { default: lcovParse } = await import('lcov-parse');
    const records = await new Promise<LcovFile[]>((done, fail) => {
      lcovParse(file, (error, data) => (error || !data ? fail(new Error(String(error))) : done(data)));
    });
    let covered = 0;
    let coverable = 0;
    for (const record of records) {
      for (const line of record.lines.details) {
        coverable++;
        if (line.hit > 0) covered++;
      }
    }
    result = { coveredLines: covered, coverableLines: coverable, files: records.length };
  } else if (kind === 'sarif') {
    // The floor of any SARIF reader: the document parsed, and its results counted.
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { runs: { results: unknown[] }[] };
    result = { findings: doc.runs.reduce((sum, run) => sum + run.results.length, 0) };
  } else {
    // The baseline: read whole, parse whole, then walk for the same facts and bounded lists.
    const { XMLParser } = await import('fast-xml-parser');
    const parser = new XMLParser({
      ignoreAttributes: false,
      attributeNamePrefix: '',
      isArray: (n) => ['testsuite', 'testcase', 'package', 'class', 'line'].includes(n),
    });
    const doc = parser.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    result = kind === 'junit' ? walkJunit(doc) : walkCobertura(doc);
  }
  const ms = performance.now() - started;
  const cpu = process.cpuUsage(cpuStarted);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  process.stdout.write(`${JSON.stringify({ ...result, ms, cpuMs, rssMb: process.resourceUsage().maxRSS / 1024 })}\n`);
}

type Node = Record<string, unknown>;
const list = (v: unknown): Node[] => (Array.isArray(v) ? (v as Node[]) : v ? [v as Node] : []);

function walkJunit(doc: Node): Omit<ChildResult, 'ms' | 'cpuMs' | 'rssMb'> {
  let tests = 0;
  let failures = 0;
  const kept: { name: string; classname: string; time: number; message: string }[] = [];
  const suites = list((doc.testsuites as Node | undefined)?.testsuite ?? doc.testsuite);
  for (const suite of suites) {
    for (const tc of list(suite.testcase)) {
      tests++;
      const failure = list(tc.failure)[0];
      if (failure) {
        failures++;
        if (kept.length < 500) {
          kept.push({
            name: String(tc.name),
            classname: String(tc.classname),
            time: Number(String(tc.time).replace(/,/g, '')),
            message: scalarText(failure.message),
          });
        }
      }
    }
  }
  return { tests, failures };
}

function walkCobertura(doc: Node): Omit<ChildResult, 'ms' | 'cpuMs' | 'rssMb'> {
  let covered = 0;
  let coverable = 0;
  let files = 0;
  const coverage = doc.coverage as Node;
  for (const pkg of list((coverage.packages as Node | undefined)?.package)) {
    for (const cls of list((pkg.classes as Node | undefined)?.class)) {
      files++;
      for (const line of list((cls.lines as Node | undefined)?.line)) {
        coverable++;
        if (Number(line.hits) > 0) covered++;
      }
    }
  }
  return { coveredLines: covered, coverableLines: coverable, files };
}

const fmt = (r: ChildResult): string =>
  `${(r.cpuMs / 1000).toFixed(2)} s CPU (${(r.ms / 1000).toFixed(2)} s wall), ${Math.round(r.rssMb)} MB peak RSS`;

const BASELINES: Record<Kind, string> = {
  junit: 'fast-xml-parser',
  cobertura: 'fast-xml-parser',
  lcov: 'lcov-parse',
  sarif: 'JSON.parse',
};

/** What both sides extracted, for the reader and to check they read the same thing. */
function facts(kind: Kind, r: ChildResult): string {
  if (kind === 'junit') return `${r.tests} tests, ${r.failures} failed`;
  if (kind === 'sarif') return `${r.findings} results`;
  return `${r.coverableLines} lines (${r.coveredLines} covered) in ${r.files} files`;
}

function sameFacts(kind: Kind, a: ChildResult, b: ChildResult): boolean {
  if (kind === 'junit') return a.tests === b.tests && a.failures === b.failures;
  if (kind === 'sarif') return a.findings === b.findings;
  return a.coverableLines === b.coverableLines && a.coveredLines === b.coveredLines && a.files === b.files;
}

/**
 * The machine is shared (2 cores, other builds and tests): times are CPU time (user + system)
 * of the parse, which waiting for a core does not inflate; each side runs several times,
 * interleaved, and keeps its fastest. Memory keeps our highest peak and the baseline's lowest,
 * so noise can only make the figures look worse for us.
 */
function compare(kind: Kind, file: string): { ours: ChildResult; base: ChildResult; same: boolean; detail: string } {
  const oursRuns: ChildResult[] = [];
  const baseRuns: ChildResult[] = [];
  for (let i = 0; i < BASELINE_RUNS; i++) {
    oursRuns.push(measure('ours', kind, file));
    baseRuns.push(measure('base', kind, file));
  }
  while (oursRuns.length < OUR_RUNS) oursRuns.push(measure('ours', kind, file));
  const fastest = (runs: ChildResult[]): ChildResult => runs.reduce((a, b) => (b.cpuMs < a.cpuMs ? b : a));
  const ours = { ...fastest(oursRuns), rssMb: Math.max(...oursRuns.map((r) => r.rssMb)) };
  const base = { ...fastest(baseRuns), rssMb: Math.min(...baseRuns.map((r) => r.rssMb)) };
  const same = sameFacts(kind, ours, base);
  const mismatch = same ? '' : ` — MISMATCH: ${BASELINES[kind]} read ${facts(kind, base)}`;
  const detail =
    `best of ${OUR_RUNS}: ours ${fmt(ours)}; best of ${BASELINE_RUNS}: ${BASELINES[kind]} ${fmt(base)}; ` +
    `${facts(kind, ours)}${mismatch}`;
  return { ours, base, same, detail };
}

function memoryFigure(name: string, ours: ChildResult, base: ChildResult, kind: Kind, same: boolean): BenchFigure {
  return {
    name: `gate: ${name} peak memory`,
    ratio: ours.rssMb / MEMORY_LIMIT_MB,
    target: `<= 1 (under ${MEMORY_LIMIT_MB} MB)`,
    ok: ours.rssMb < MEMORY_LIMIT_MB && same,
    detail: `ours ${Math.round(ours.rssMb)} MB, ${BASELINES[kind]} ${Math.round(base.rssMb)} MB`,
  };
}

function surefire(file: string): BenchFigure[] {
  const { ours, base, same, detail } = compare('junit', file);
  const mbPerS = (statSync(file).size / MB / ours.cpuMs) * 1000;
  return [
    {
      name: 'gate: 500 MB Surefire streaming throughput',
      ratio: mbPerS / SUREFIRE_MB_PER_S_TARGET,
      target: `>= 1 (${SUREFIRE_MB_PER_S_TARGET} MB/s of CPU time)`,
      ok: mbPerS >= SUREFIRE_MB_PER_S_TARGET && same,
      detail: `${Math.round(mbPerS)} MB/s, ${(base.cpuMs / ours.cpuMs).toFixed(1)}x fast-xml-parser; ${detail}`,
    },
    memoryFigure('500 MB Surefire', ours, base, 'junit', same),
  ];
}

function cobertura(file: string): BenchFigure[] {
  const { ours, base, same, detail } = compare('cobertura', file);
  const speed = base.cpuMs / ours.cpuMs;
  return [
    {
      name: 'gate: 200 MB Cobertura parse speed vs fast-xml-parser',
      ratio: speed,
      target: `>= ${COBERTURA_SPEED_TARGET}x faster`,
      ok: speed >= COBERTURA_SPEED_TARGET && same,
      detail,
    },
    memoryFigure('200 MB Cobertura', ours, base, 'cobertura', same),
  ];
}

function lcov(file: string): BenchFigure[] {
  const { ours, base, same, detail } = compare('lcov', file);
  const speed = base.cpuMs / ours.cpuMs;
  return [
    {
      name: 'gate: 100 MB LCOV parse speed vs lcov-parse',
      ratio: speed,
      target: `>= ${LCOV_SPEED_TARGET}x faster`,
      ok: speed >= LCOV_SPEED_TARGET && same,
      detail,
    },
    memoryFigure('100 MB LCOV', ours, base, 'lcov', same),
  ];
}

function sarif(file: string): BenchFigure[] {
  const { ours, base, same, detail } = compare('sarif', file);
  const time = ours.cpuMs / base.cpuMs;
  const memory = ours.rssMb / base.rssMb;
  return [
    {
      name: 'gate: 50 MB SARIF parse time vs a bare JSON.parse',
      ratio: time,
      target: `<= ${SARIF_TIME_TARGET}x`,
      ok: time <= SARIF_TIME_TARGET && same,
      detail,
    },
    {
      name: 'gate: 50 MB SARIF peak memory vs a bare JSON.parse',
      ratio: memory,
      target: `<= ${SARIF_MEMORY_TARGET}x`,
      ok: memory <= SARIF_MEMORY_TARGET && same,
      detail: `ours ${Math.round(ours.rssMb)} MB, JSON.parse ${Math.round(base.rssMb)} MB`,
    },
  ];
}

/** `npm run bench -- gate`; `GATE_BENCH=lcov,sarif` runs only those parts (when working on one). */
export async function run(): Promise<BenchFigure[]> {
  mkdirSync(DATA, { recursive: true });
  const only = (process.env.GATE_BENCH ?? '').split(',').filter(Boolean);
  const wanted = (part: string): boolean => only.length === 0 || only.includes(part);
  const figures: BenchFigure[] = [];
  const files = {
    surefire: join(DATA, 'gate-surefire-500mb.xml'),
    cobertura: join(DATA, 'gate-cobertura-200mb.xml'),
    lcov: join(DATA, 'gate-100mb.lcov'),
    sarif: join(DATA, 'gate-50mb.sarif'),
    huge: join(DATA, 'gate-surefire-2gb.xml'),
  };
  try {
    childScript = buildChild();
    if (wanted('surefire')) {
      generate('surefire', files.surefire, 500 * MB);
      figures.push(...surefire(files.surefire));
      rmSync(files.surefire, { force: true });
    }
    if (wanted('cobertura')) {
      generate('cobertura', files.cobertura, 200 * MB);
      figures.push(...cobertura(files.cobertura));
      rmSync(files.cobertura, { force: true });
    }
    if (wanted('lcov')) {
      generate('lcov', files.lcov, 100 * MB);
      figures.push(...lcov(files.lcov));
      rmSync(files.lcov, { force: true });
    }
    if (wanted('sarif')) {
      generate('sarif', files.sarif, 50 * MB);
      figures.push(...sarif(files.sarif));
      rmSync(files.sarif, { force: true });
    }
    if (wanted('huge')) {
      generate('surefire', files.huge, 2048 * MB, 800_000);
      const ours = measure('ours', 'junit', files.huge);
      figures.push({
        name: 'gate: 2 GB Surefire peak memory',
        ratio: ours.rssMb / MEMORY_LIMIT_MB,
        target: `<= 1 (under ${MEMORY_LIMIT_MB} MB)`,
        ok: ours.rssMb < MEMORY_LIMIT_MB && ours.tests === 800_000,
        detail: `${fmt(ours)}, ${ours.tests} tests read; a whole-file parser cannot hold it in one string`,
      });
    }
  } finally {
    for (const file of Object.values(files)) rmSync(file, { force: true });
    rmSync(CHILD, { recursive: true, force: true });
  }
  return figures;
}
