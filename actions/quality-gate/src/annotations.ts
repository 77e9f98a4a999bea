// Annotations as workflow commands: the engine picks and orders them within GitHub's limits.
import * as core from '@actions/core';
import { isAbsolute, posix } from 'node:path';
import { selectAnnotations, type GateReport } from '@adci/reports';

/**
 * `pathPrefix` turns paths relative to working-directory into the repository-relative paths
 * GitHub places annotations by.
 */
export function writeAnnotations(report: GateReport, perLevel: number, reportFile: string, pathPrefix = ''): number {
  const annotations = selectAnnotations(report, {
    perLevel,
    fullListHint: `the job summary and the report file (${reportFile}, the \`report\` output)`,
  });
  for (const a of annotations) {
    const properties: core.AnnotationProperties = {
      title: a.title,
      file: a.file && pathPrefix && !isAbsolute(a.file) ? posix.join(pathPrefix, a.file) : a.file,
      startLine: a.line,
      endLine: a.endLine,
    };
    if (a.level === 'error') core.error(a.message, properties);
    else if (a.level === 'warning') core.warning(a.message, properties);
    else core.notice(a.message, properties);
  }
  return annotations.length;
}
