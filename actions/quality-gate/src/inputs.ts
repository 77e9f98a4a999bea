// Every quality-gate input is read and validated here, once, into one settings object. The
// token is masked the moment it is read.
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import {
  readInputFile,
  readBoolean,
  readEnum,
  readInteger,
  readLines,
  readSecret,
  readString,
  readText,
  type RunContext,
  workspaceDir,
} from '@adci/action-common';
import { gateSettings, type GateReport, type ReportPattern, type Threshold } from '@adci/reports';

export const COMMENT_MODES = ['true', 'false', 'on-failure'] as const;
export type CommentMode = (typeof COMMENT_MODES)[number];

export interface PullRequestInfo {
  number: number;
  base: string;
  head: string;
  /** The head branch lives in another repository (a fork): the token cannot comment. */
  fromFork: boolean;
}

export interface QualityGateInputs {
  /** Repository root: globs, git and repository-relative paths are resolved against it. */
  root: string;
  /** working-directory relative to the workspace ('' at the top), for annotation paths. */
  pathPrefix: string;
  reports: ReportPattern[];
  thresholds: Threshold[];
  /** The thresholds input was empty and the documented defaults apply. */
  thresholdsDefaulted: boolean;
  minChangedLines: number;
  baseline?: GateReport;
  ignoreMalformed: boolean;
  /** Fail the step when the gate fails. */
  failOnFailure: boolean;
  comment: CommentMode;
  commentId: string;
  title: string;
  token: string;
  annotationsPerLevel: number;
  reportFile: string;
  pullRequest?: PullRequestInfo;
  repository: { owner: string; repo: string };
  runUrl: string;
}

/**
 * The pull request being gated: from a pull_request(_target) event, or — for the workflow_run
 * pattern that fork pull requests need to get a writable token — from `pull-request-number`
 * (GitHub leaves workflow_run.pull_requests empty for forks) or workflow_run.pull_requests.
 */
function readPullRequest(context: RunContext): PullRequestInfo | undefined {
  const explicit = readInteger('pull-request-number', 0, 0);
  const diffBase = readString('diff-base');
  const pr = context.event.pull_request as
    | {
        number?: number;
        base?: { sha?: string; repo?: { full_name?: string } };
        head?: { sha?: string; repo?: { full_name?: string } | null };
      }
    | undefined;
  if (pr && typeof pr.number === 'number') {
    const headRepo = pr.head?.repo?.full_name;
    const baseRepo = pr.base?.repo?.full_name ?? context.repository;
    return {
      number: explicit || pr.number,
      base: diffBase || pr.base?.sha || '',
      head: pr.head?.sha || context.sha || 'HEAD',
      // pull_request_target runs with the base repository's token, which can comment.
      fromFork: context.eventName !== 'pull_request_target' && (headRepo === undefined || headRepo !== baseRepo),
    };
  }
  const run = context.event.workflow_run as
    { head_sha?: string; pull_requests?: { number?: number; base?: { sha?: string } }[] } | undefined;
  const listed = run?.pull_requests?.[0];
  const number = explicit || (typeof listed?.number === 'number' ? listed.number : 0);
  if (!number) return undefined;
  return {
    number,
    base: diffBase || listed?.base?.sha || '',
    head: run?.head_sha || context.sha || 'HEAD',
    // A workflow_run (or any non-pull_request event) runs with the base repository's token.
    fromFork: false,
  };
}

export async function readInputs(context: RunContext): Promise<QualityGateInputs> {
  const token = readSecret('github-token');
  const workspace = workspaceDir();
  const root = resolve(workspace, readString('working-directory') || '.');
  const [owner = '', repo = ''] = context.repository.split('/');
  const reportFile = readString('report-file') || join(process.env.RUNNER_TEMP || root, 'quality-gate-report.json');
  const comment = readEnum('comment', COMMENT_MODES, 'true');
  const prefix = relative(workspace, root).split(sep).join('/');
  const gate = await gateSettings({
    root,
    reports: readLines('reports'),
    thresholds: readText('thresholds'),
    minChangedLines: readString('min-changed-lines'),
    baseline: readInputFile('baseline', root),
    ignoreMalformed: readBoolean('ignore-malformed', false),
  });
  return {
    root,
    pathPrefix: prefix.startsWith('..') ? '' : prefix,
    reports: gate.reports,
    thresholds: gate.thresholds,
    thresholdsDefaulted: gate.thresholdsDefaulted,
    minChangedLines: gate.minChangedLines,
    baseline: gate.baseline,
    ignoreMalformed: gate.ignoreMalformed,
    failOnFailure: readBoolean('fail-on-failure', true),
    comment,
    commentId: readString('comment-id') || 'default',
    title: readString('title') || 'Quality gate',
    token,
    annotationsPerLevel: readInteger('annotations', 10, 0),
    reportFile: isAbsolute(reportFile) ? reportFile : join(root, reportFile),
    pullRequest: readPullRequest(context),
    repository: { owner, repo },
    runUrl: context.runUrl,
  };
}
