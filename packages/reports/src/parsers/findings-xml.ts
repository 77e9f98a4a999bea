// Findings written as XML: Checkstyle, and the JUnit XML that flake8 and mypy can emit (a lint
// result dressed as test cases, turned back into findings here).
import type { XmlHandler, XmlAttributes } from '../xml/scanner.ts';
import type { Collector } from '../collector.ts';
import { flake8Severity, addMypyLine } from './text.ts';

export function checkstyleHandler(collector: Collector, tool: string): XmlHandler {
  let file: string | undefined;
  collector.sawTool(tool);
  return {
    open(name: string, attrs: XmlAttributes): number {
      if (name === 'file') file = attrs.get('name');
      else if (name === 'error' && file !== undefined) {
        const severity = (attrs.get('severity') ?? 'error').toLowerCase();
        if (severity === 'ignore') return 0;
        const line = attrs.number('line') ?? NaN;
        // ESLint writes "eslint.rules.<rule>"; Checkstyle writes a class name: keep the last part.
        const source = attrs.get('source') ?? '';
        collector.addFinding({
          tool,
          rule: source.split('.').pop() || 'checkstyle',
          severity: severity === 'error' ? 'error' : severity === 'warning' ? 'warning' : 'note',
          file,
          line: Number.isInteger(line) && line > 0 ? line : undefined,
          message: attrs.get('message') ?? '',
        });
      }
      return 0;
    },
    close(name: string): void {
      if (name === 'file') file = undefined;
    },
  };
}

const FLAKE8_MESSAGE = /^(.*?):(\d+):(?:(\d+):)?\s*([A-Z]+[0-9]+)\s+(.*)$/s;

/** flake8-formatter-junit-xml: one testcase per finding, "path:row:col: CODE text" in the message. */
export function flake8JunitHandler(collector: Collector): XmlHandler {
  let file: string | undefined;
  let line: number | undefined;
  collector.sawTool('flake8');
  return {
    open(name: string, attrs: XmlAttributes): number {
      if (name === 'testcase') {
        file = attrs.get('file');
        const lineText = attrs.get('line');
        line = lineText ? Number(lineText) : undefined;
      } else if (name === 'failure' || name === 'error') {
        const message = attrs.get('message') ?? '';
        const m = FLAKE8_MESSAGE.exec(message);
        const type = attrs.get('type');
        const code = m?.[4] ?? (type && type !== 'failure' ? type.replace(/^flake8\s+/, '') : 'flake8');
        collector.addFinding({
          tool: 'flake8',
          rule: code,
          severity: flake8Severity(code),
          file: m?.[1] ?? file,
          line: m ? Number(m[2]) : line,
          message: m?.[5] ?? message,
        });
      }
      return 0;
    },
    close(): void {},
  };
}

/** mypy --junit-xml: the only real locations are the "file:line: error: ..." lines of the failure text. */
export function mypyJunitHandler(collector: Collector): XmlHandler {
  collector.sawTool('mypy');
  return {
    open(name: string): number {
      // The failure text is the whole mypy output: collect it (up to 64 MiB of characters).
      return name === 'failure' || name === 'error' ? 64 * 1024 * 1024 : 0;
    },
    close(name: string, text: string): void {
      if (name !== 'failure' && name !== 'error') return;
      for (const line of text.split('\n')) addMypyLine(line.trimEnd(), collector);
    },
  };
}
