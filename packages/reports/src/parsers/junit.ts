// JUnit XML in its real-world flavours: pytest, jest-junit, vitest, Maven Surefire (flaky and
// rerun elements), mocha, go-junit-report; nested <testsuites>, a bare <testsuite> root, and
// missing attributes. Streams the file and keeps only counts and bounded lists.
import { KeptValue, type XmlHandler, type XmlAttributes } from '../xml/scanner.ts';
import { worseOutcome, type Collector } from '../collector.ts';
import { truncate, type TestOutcome } from '../model.ts';

/** Seconds as written by JUnit producers ("1.5", "1,234.5" from Surefire, "" or absent) to ms. */
export function parseSeconds(value: string | undefined): number {
  if (!value) return 0;
  const seconds = Number(value.indexOf(',') === -1 ? value : value.replace(/,/g, ''));
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 0;
}

/** The time attribute in ms: a plain decimal is read from the bytes, anything else as parseSeconds does. */
function durationAttribute(attrs: XmlAttributes): number {
  const seconds = attrs.number('time');
  if (seconds === undefined) return 0;
  if (!Number.isNaN(seconds)) return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 0;
  return parseSeconds(attrs.get('time'));
}

export function junitHandler(collector: Collector, report: string): XmlHandler {
  const suites: { name: string; file?: string; declared: number; cases: number; ordinal: string }[] = [];
  let suitesSeen = 0;
  let resultElement: string | undefined;
  const limits = collector.limits;
  collector.testReports++;
  // Consecutive test cases mostly name the same file: resolve it once per run of them.
  let lastFile = '';
  let lastRelative = '';
  const relative = (file: string): string => {
    if (file !== lastFile) {
      lastFile = file;
      lastRelative = collector.relativePath(file);
    }
    return lastRelative;
  };

  // The test case being read, in variables rather than an object: most cases pass with nothing
  // inside them, and are counted without their name or class ever becoming strings.
  let inCase = false;
  const caseName = new KeptValue();
  const caseClass = new KeptValue();
  /** The class when the case names none: its suite's name. */
  let caseClassFallback = '';
  let caseFile: string | undefined;
  let caseLine: number | undefined;
  let caseDurationMs = 0;
  /** The suite element, not its name: two suites of one file may share a name (pytest). */
  let caseSuite = '';
  let caseOutcome: TestOutcome | undefined;
  let caseMessage: string | undefined;
  let caseDetails: string | undefined;
  /** A Surefire flaky element was seen: failed, then passed on a rerun. */
  let caseFlaky = false;

  return {
    open(name: string, attrs: XmlAttributes): number {
      switch (name) {
        case 'testsuite':
          suites.push({
            name: attrs.get('name') ?? '',
            file: attrs.get('file') ?? attrs.get('filepath'),
            declared: attrs.number('tests') || 0,
            cases: 0,
            ordinal: String(suitesSeen++),
          });
          return 0;
        case 'testcase': {
          const suite = suites[suites.length - 1];
          const file = attrs.shared('file') ?? attrs.shared('filepath') ?? suite?.file;
          const lineText = attrs.get('line');
          inCase = true;
          attrs.keep('name', caseName);
          if (!attrs.keep('classname', caseClass)) attrs.keep('class', caseClass);
          caseClassFallback = suite?.name ?? '';
          caseFile = file ? relative(file) : undefined;
          // pytest's xunit1 "line" is 0-based (its item.location); everyone else counts from 1.
          caseLine = fixLine(lineText ? Number(lineText) : undefined, suite?.name === 'pytest');
          caseDurationMs = durationAttribute(attrs);
          caseSuite = suite ? suite.ordinal : '';
          caseOutcome = undefined;
          caseMessage = undefined;
          caseDetails = undefined;
          caseFlaky = false;
          if (suite) suite.cases++;
          // <testcase status="disabled"> (the JUnit schema's status, used by CTest and others) did not run.
          const status = attrs.get('status');
          if (status === 'disabled' || status === 'skipped' || status === 'notrun') {
            caseOutcome = 'skipped';
            caseMessage = `status="${status}"`;
          }
          return 0;
        }
        case 'failure':
        case 'error': {
          if (!inCase || resultElement) return 0;
          caseOutcome = worseOutcome(caseOutcome, name === 'failure' ? 'failed' : 'errored');
          caseMessage = firstLine(attrs.get('message') ?? attrs.get('type') ?? '', limits.maxMessageChars);
          resultElement = name;
          // Collect the failure text only while the list of failures has room.
          return collector.failures.length < limits.maxTestFailures ? limits.maxDetailChars : 0;
        }
        case 'skipped':
          if (inCase) {
            caseOutcome = worseOutcome(caseOutcome, 'skipped');
            caseMessage ??= firstLine(attrs.get('message') ?? '', limits.maxMessageChars) || undefined;
          }
          return 0;
        case 'flakyFailure':
        case 'flakyError':
          if (inCase) {
            caseFlaky = true;
            caseMessage ??= firstLine(attrs.get('message') ?? attrs.get('type') ?? '', limits.maxMessageChars);
          }
          return 0;
        default:
          // rerunFailure/rerunError accompany a <failure>: the test failed on every run.
          return 0;
      }
    },
    close(name: string, text: string): void {
      if (name === 'testsuite') {
        const suite = suites.pop();
        const parent = suites[suites.length - 1];
        if (suite && parent) parent.cases += suite.cases;
        if (suite && suite.declared > 0 && suite.cases === 0) {
          collector.warnings.push(
            `${report}: suite '${suite.name || '(unnamed)'}' declares ${suite.declared} test(s) but holds no test cases; they are not counted`,
          );
        }
      } else if ((name === 'failure' || name === 'error') && name === resultElement) {
        resultElement = undefined;
        if (inCase && text) {
          const trimmed = text.trim();
          caseDetails = truncate(trimmed, limits.maxDetailChars);
          if (!caseMessage) caseMessage = firstLine(trimmed, limits.maxMessageChars);
        }
      } else if (name === 'testcase' && inCase) {
        inCase = false;
        // The case has a name: only a named case can be written again by a rerun.
        const named = caseName.length > 0;
        const outcome = caseOutcome ?? (caseFlaky ? 'flaky' : undefined);
        if (outcome === undefined && collector.countPassing(caseName, caseDurationMs, named)) return;
        const testName = named ? (caseName.text() as string) : '(unnamed)';
        const classname = caseClass.text() ?? caseClassFallback;
        collector.addTest(
          {
            id: classname ? `${classname}::${testName}` : testName,
            suite: caseSuite,
            name: testName,
            classname,
            file: caseFile,
            line: caseLine,
            durationMs: caseDurationMs,
            outcome,
            message: outcome ? caseMessage : undefined,
            details: outcome ? caseDetails : undefined,
            report,
          },
          named,
        );
      }
    },
  };
}

function fixLine(line: number | undefined, zeroBased: boolean): number | undefined {
  if (line === undefined || !Number.isInteger(line)) return undefined;
  const oneBased = zeroBased ? line + 1 : line;
  return oneBased > 0 ? oneBased : undefined;
}

function firstLine(text: string, max: number): string {
  const trimmed = text.trim();
  const nl = trimmed.indexOf('\n');
  return truncate(nl === -1 ? trimmed : trimmed.slice(0, nl).trim(), max);
}
