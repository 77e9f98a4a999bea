// Coverage in XML: Cobertura (class filenames resolved against <sources>) and JaCoCo
// (package/sourcefile/line counters). Both stream; only per-line hits are kept.
import { existsSync } from 'node:fs';
import { join, posix } from 'node:path';
import type { XmlHandler, XmlAttributes } from '../xml/scanner.ts';
import type { Collector } from '../collector.ts';
import type { FileCoverage } from '../model.ts';

const CONDITION = /\((\d+)\s*\/\s*(\d+)\)/;

export function coberturaHandler(collector: Collector): XmlHandler {
  const sources: string[] = [];
  let file: FileCoverage | undefined;
  let inMethod = 0;
  collector.coverageReports++;

  function resolve(filename: string): string {
    if (posix.isAbsolute(filename) || /^[A-Za-z]:[\\/]/.test(filename)) return filename;
    if (sources.length === 1) return join(sources[0] as string, filename);
    // Several roots: the one where the file exists (checked once per class, not per line).
    for (const source of sources) {
      const candidate = join(source, filename);
      if (existsSync(join(collector.root, candidate)) || existsSync(candidate)) return candidate;
    }
    return filename;
  }

  return {
    open(name: string, attrs: XmlAttributes): number {
      switch (name) {
        case 'line': {
          // Lines under <method> repeat the class's own <lines>: count each line once.
          if (!file || inMethod > 0) return 0;
          const hits = attrs.number('hits') ?? 0;
          let total = 0;
          let covered = 0;
          if (attrs.is('branch', 'true')) {
            const m = CONDITION.exec(attrs.get('condition-coverage') ?? '');
            if (m) {
              covered = Number(m[1]);
              total = Number(m[2]);
            }
          }
          collector.addLine(file, attrs.number('number') ?? NaN, Number.isFinite(hits) ? hits : 0, total, covered);
          return 0;
        }
        case 'class': {
          const filename = attrs.get('filename');
          file = filename ? collector.fileCoverage(resolve(filename)) : undefined;
          return 0;
        }
        case 'method':
          inMethod++;
          return 0;
        case 'source':
          return 4096;
        default:
          return 0;
      }
    },
    close(name: string, text: string): void {
      if (name === 'method') inMethod--;
      else if (name === 'class') file = undefined;
      else if (name === 'source') {
        const source = text.trim();
        if (source) sources.push(source);
      }
    },
  };
}

export function jacocoHandler(collector: Collector): XmlHandler {
  let pkg = '';
  let file: FileCoverage | undefined;
  collector.coverageReports++;
  return {
    open(name: string, attrs: XmlAttributes): number {
      if (name === 'line' && file) {
        const missedInstructions = attrs.number('mi') ?? 0;
        const coveredInstructions = attrs.number('ci') ?? 0;
        const missedBranches = attrs.number('mb') ?? 0;
        const coveredBranches = attrs.number('cb') ?? 0;
        if (missedInstructions + coveredInstructions > 0) {
          collector.addLine(
            file,
            attrs.number('nr') ?? NaN,
            coveredInstructions > 0 ? 1 : 0,
            missedBranches + coveredBranches,
            coveredBranches,
          );
        }
      } else if (name === 'package') {
        pkg = attrs.get('name') ?? '';
      } else if (name === 'sourcefile') {
        // JaCoCo paths are relative to a source root (src/main/java); changed-line matching
        // falls back to a path-suffix match for them.
        const name = attrs.get('name') ?? '';
        file = collector.fileCoverage(pkg ? `${pkg}/${name}` : name);
      }
      return 0;
    },
    close(name: string): void {
      if (name === 'sourcefile') file = undefined;
    },
  };
}
