// Findings written as JSON: SARIF 2.1.0, ESLint, pylint (json and json2), bandit, pip-audit,
// safety (1.x list and 2.x object), npm audit (v7+). Each maps the tool's own severity scale to
// error/warning/note, and to critical/high/medium/low where the tool rates security.
import type { Collector } from '../collector.ts';
import type { ExtraLocation, SecuritySeverity, Severity } from '../model.ts';
import { scalarText } from '@adci/common';
import { ReportError } from '../errors.ts';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const positive = (v: unknown): number | undefined => {
  const n = num(v);
  return n !== undefined && n > 0 ? n : undefined;
};

/** GitHub's mapping of a CVSS-like score (SARIF security-severity) to a level. */
export function securityFromScore(score: number | undefined): SecuritySeverity | undefined {
  if (score === undefined || !(score > 0)) return undefined;
  if (score >= 9) return 'critical';
  if (score >= 7) return 'high';
  if (score >= 4) return 'medium';
  return 'low';
}

function securityFromWord(word: unknown): SecuritySeverity | undefined {
  switch (scalarText(word).toLowerCase()) {
    case 'critical':
      return 'critical';
    case 'high':
      return 'high';
    case 'moderate':
    case 'medium':
      return 'medium';
    case 'low':
    case 'info':
      return 'low';
    default:
      return undefined;
  }
}

function severityFromSecurity(security: SecuritySeverity | undefined): Severity {
  return security === 'critical' || security === 'high' || security === undefined
    ? 'error'
    : security === 'medium'
      ? 'warning'
      : 'note';
}

/** What every result of a rule shares, worked out once per rule rather than once per result. */
interface SarifRule {
  id: string | undefined;
  defaultLevel: string | undefined;
  /** The rule's security-severity as a number (NaN when it has none), and its level. */
  score: number;
  security: SecuritySeverity | undefined;
  description: string | undefined;
}

function sarifRule(rule: Json): SarifRule {
  const props = isObject(rule.properties) ? rule.properties : {};
  const score = Number(props['security-severity']);
  return {
    id: str(rule.id),
    defaultLevel: isObject(rule.defaultConfiguration) ? str(rule.defaultConfiguration.level) : undefined,
    score,
    security: securityFromScore(score),
    description: isObject(rule.shortDescription) ? str(rule.shortDescription.text) : undefined,
  };
}

export function parseSarif(doc: Json, path: string, collector: Collector): void {
  const runs = doc.runs;
  if (!Array.isArray(runs)) throw new ReportError(path, 'SARIF without a "runs" array');
  for (const run of runs) {
    if (!isObject(run)) continue;
    const driver = isObject(run.tool) && isObject(run.tool.driver) ? run.tool.driver : {};
    const tool = (str(driver.name) ?? 'sarif').toLowerCase().replace(/\s+/g, '-');
    collector.sawTool(tool);
    const byIndex: (SarifRule | undefined)[] = [];
    const byId = new Map<string, SarifRule>();
    for (const rule of Array.isArray(driver.rules) ? driver.rules : []) {
      const info = isObject(rule) ? sarifRule(rule) : undefined;
      byIndex.push(info);
      if (info?.id) byId.set(info.id, info);
    }
    const baseUris = isObject(run.originalUriBaseIds) ? run.originalUriBaseIds : {};
    sarifInvocationErrors(run, tool, baseUris, collector);
    for (const result of Array.isArray(run.results) ? run.results : []) {
      if (!isObject(result)) continue;
      // Only a failing result is a finding (SARIF §3.27.9: pass, notApplicable, informational, review, open are not).
      if (result.kind !== undefined && result.kind !== 'fail') continue;
      // A suppression hides a result only once accepted (§3.35.3: underReview and rejected do not).
      if (
        Array.isArray(result.suppressions) &&
        result.suppressions.some((x) => isObject(x) && (x.status === undefined || x.status === 'accepted'))
      ) {
        continue;
      }
      const ruleRef = isObject(result.rule) ? result.rule : undefined;
      const ruleId = str(result.ruleId) ?? (ruleRef ? str(ruleRef.id) : undefined) ?? '';
      const ruleIndex = num(result.ruleIndex) ?? (ruleRef ? num(ruleRef.index) : undefined);
      const rule = byId.get(ruleId) ?? (ruleIndex !== undefined ? byIndex[ruleIndex] : undefined);
      const level = str(result.level) ?? rule?.defaultLevel ?? 'warning';
      if (level === 'none') continue;
      const severity = level === 'error' ? 'error' : level === 'note' ? 'note' : 'warning';
      // GitHub's security-severity score, the result's own before its rule's; bandit's SARIF
      // carries its own rating instead.
      let security = rule?.security;
      if (isObject(result.properties)) {
        const own = result.properties['security-severity'];
        const score = own !== undefined && own !== null ? Number(own) : (rule?.score ?? NaN);
        security = Number.isFinite(score)
          ? securityFromScore(score)
          : securityFromWord(result.properties.issue_severity);
      }
      const locations = Array.isArray(result.locations) ? result.locations : [];
      if (!collector.keepsFindings()) {
        // Past the findings kept a result is only counted: no finding is built for it, and its
        // locations are read only on a pull request, for the changed lines.
        const onChangedLine = collector.changed !== undefined && sarifOnChangedLines(locations, baseUris, collector);
        collector.countFinding(tool, severity, security, onChangedLine);
        continue;
      }
      const { uri, line: startLine, endLine } = sarifLocation(locations[0], baseUris);
      // Most results have one location: the list of the others is made only when there are some.
      const more: ExtraLocation[] = [];
      for (let i = 1; i < locations.length; i++) {
        const l = sarifLocation(locations[i], baseUris);
        if (l.uri && l.line !== undefined) {
          more.push({ file: l.uri, line: l.line, ...(l.endLine !== undefined ? { endLine: l.endLine } : {}) });
        }
      }
      const message = isObject(result.message) ? (str(result.message.text) ?? str(result.message.markdown)) : undefined;
      collector.addFinding(
        {
          tool,
          rule: ruleId || 'sarif',
          severity,
          security,
          file: uri,
          line: startLine,
          endLine,
          message: message ?? (rule ? (rule.description ?? ruleId) : ruleId),
        },
        more,
      );
    }
  }
}

/** Whether any location of a result lies on a line the pull request changed. */
function sarifOnChangedLines(locations: unknown[], baseUris: Json, collector: Collector): boolean {
  return locations.some((location, i) => {
    const { uri, line, endLine } = sarifLocation(location, baseUris);
    // The first location counts as it is; the others, as addFinding's extra locations, need a line.
    if (uri === undefined || (i > 0 && (!uri || line === undefined))) return false;
    return collector.onChangedLines(collector.relativePath(uri), line, endLine);
  });
}

/**
 * A run whose tool did not scan everything says so in its invocations (SARIF §3.20): an
 * error-level notification (ESLint's parse errors, bandit's unparseable files, which bandit files
 * under toolConfigurationNotifications) or executionSuccessful: false. Each is a scan error, so a
 * gate on the findings cannot pass on a partial scan; a failed invocation without an error
 * notification is one scan error of its own.
 */
function sarifInvocationErrors(run: Json, tool: string, baseUris: Json, collector: Collector): void {
  for (const invocation of Array.isArray(run.invocations) ? run.invocations : []) {
    if (!isObject(invocation)) continue;
    let errors = 0;
    for (const key of ['toolExecutionNotifications', 'toolConfigurationNotifications']) {
      const notifications = invocation[key];
      for (const n of Array.isArray(notifications) ? notifications : []) {
        // A notification's level defaults to warning (§3.58.6): only errors mean a part went unscanned.
        if (!isObject(n) || n.level !== 'error') continue;
        errors++;
        const message = isObject(n.message) ? (str(n.message.text) ?? str(n.message.markdown)) : undefined;
        const descriptor = isObject(n.descriptor) ? str(n.descriptor.id) : undefined;
        const location: unknown = Array.isArray(n.locations) ? n.locations[0] : undefined;
        const physical = isObject(location) && isObject(location.physicalLocation) ? location.physicalLocation : {};
        const file = sarifUri(physical, baseUris);
        collector.addScanError({
          tool,
          ...(file !== undefined ? { file } : {}),
          reason: message ?? descriptor ?? `an error in ${key}`,
        });
      }
    }
    if (invocation.executionSuccessful === false && errors === 0) {
      const code = num(invocation.exitCode);
      const description = str(invocation.exitCodeDescription) ?? str(invocation.exitSignalName);
      const exit = [code !== undefined ? `exit code ${code}` : undefined, description].filter(Boolean).join(', ');
      collector.addScanError({
        tool,
        reason: `the tool reported that it did not run successfully (executionSuccessful: false${exit ? `, ${exit}` : ''})`,
      });
    }
  }
}

/** The URI of a physicalLocation, resolved against the run's originalUriBaseIds. */
function sarifLocation(
  location: unknown,
  baseUris: Json,
): { uri: string | undefined; line: number | undefined; endLine: number | undefined } {
  if (location === undefined) return { uri: undefined, line: undefined, endLine: undefined };
  const physical = isObject(location) && isObject(location.physicalLocation) ? location.physicalLocation : {};
  const region = isObject(physical.region) ? physical.region : {};
  return { uri: sarifUri(physical, baseUris), line: positive(region.startLine), endLine: positive(region.endLine) };
}

function sarifUri(physical: Json, baseUris: Json): string | undefined {
  const artifact = isObject(physical.artifactLocation) ? physical.artifactLocation : {};
  const uri = str(artifact.uri);
  const baseId = str(artifact.uriBaseId);
  const base = baseId && isObject(baseUris[baseId]) ? str(baseUris[baseId].uri) : undefined;
  return uri && base && !/^[a-z]+:/i.test(uri) ? `${base.replace(/\/?$/, '/')}${uri}` : uri;
}

export function parseEslint(doc: unknown[], collector: Collector): void {
  collector.sawTool('eslint');
  for (const file of doc) {
    if (!isObject(file) || !Array.isArray(file.messages)) continue;
    for (const message of file.messages) {
      if (!isObject(message)) continue;
      collector.addFinding({
        tool: 'eslint',
        rule: str(message.ruleId) ?? (message.fatal ? 'fatal' : 'eslint'),
        severity: message.severity === 2 || message.fatal ? 'error' : message.severity === 1 ? 'warning' : 'note',
        file: str(file.filePath),
        line: positive(message.line),
        endLine: positive(message.endLine),
        message: str(message.message) ?? '',
      });
    }
  }
}

function pylintSeverity(type: string): Severity {
  if (type === 'fatal' || type === 'error') return 'error';
  if (type === 'warning') return 'warning';
  return 'note';
}

/** pylint's json (a list) and json2 ({messages, statistics}) outputs. */
export function parsePylint(messages: unknown[], collector: Collector): void {
  collector.sawTool('pylint');
  for (const m of messages) {
    if (!isObject(m)) continue;
    const symbol = str(m.symbol) ?? str(m.messageId) ?? str(m['message-id']) ?? 'pylint';
    const id = str(m.messageId) ?? str(m['message-id']);
    collector.addFinding({
      tool: 'pylint',
      rule: id ? `${id} ${symbol}` : symbol,
      severity: pylintSeverity(str(m.type) ?? 'warning'),
      file: str(m.path),
      line: positive(m.line),
      endLine: positive(m.endLine),
      message: str(m.message) ?? '',
    });
  }
}

export function parseBandit(doc: Json, collector: Collector): void {
  collector.sawTool('bandit');
  for (const r of Array.isArray(doc.results) ? doc.results : []) {
    if (!isObject(r)) continue;
    const security = securityFromWord(r.issue_severity);
    const range = Array.isArray(r.line_range) ? r.line_range.filter((n): n is number => typeof n === 'number') : [];
    const confidence = str(r.issue_confidence);
    collector.addFinding({
      tool: 'bandit',
      rule: [str(r.test_id), str(r.test_name)].filter(Boolean).join(' ') || 'bandit',
      severity: severityFromSecurity(security),
      security,
      file: str(r.filename),
      line: positive(r.line_number),
      endLine: range.length > 0 ? Math.max(...range) : undefined,
      message: `${str(r.issue_text) ?? ''}${confidence ? ` (confidence: ${confidence.toLowerCase()})` : ''}`,
    });
  }
  // Files bandit could not scan are not findings about the code, but they must not pass unseen.
  for (const e of Array.isArray(doc.errors) ? doc.errors : []) {
    if (!isObject(e)) continue;
    collector.addScanError({ tool: 'bandit', file: str(e.filename), reason: str(e.reason) ?? 'unknown reason' });
  }
}

/** pip-audit gives no severity: every known vulnerability counts as an error without a security level. */
export function parsePipAudit(doc: Json, collector: Collector, manifest: string | undefined): void {
  collector.sawTool('pip-audit');
  for (const dep of Array.isArray(doc.dependencies) ? doc.dependencies : []) {
    if (!isObject(dep)) continue;
    // A dependency pip-audit could not audit is an unscanned part, not a clean one.
    if (str(dep.skip_reason)) {
      collector.addScanError({
        tool: 'pip-audit',
        file: manifest,
        reason: `${str(dep.name)}: ${str(dep.skip_reason)}`,
      });
      continue;
    }
    if (!Array.isArray(dep.vulns)) continue;
    for (const v of dep.vulns) {
      if (!isObject(v)) continue;
      const fixes = Array.isArray(v.fix_versions) ? v.fix_versions.join(', ') : '';
      const aliases = Array.isArray(v.aliases) && v.aliases.length > 0 ? ` (${v.aliases.join(', ')})` : '';
      const description = str(v.description);
      collector.addFinding({
        tool: 'pip-audit',
        rule: str(v.id) ?? 'vulnerability',
        severity: 'error',
        file: manifest,
        message:
          `${str(dep.name)} ${str(dep.version) ?? ''}: ${str(v.id)}${aliases}` +
          `${fixes ? `; fixed in ${fixes}` : '; no fix available'}${description ? `. ${description}` : ''}`,
      });
    }
  }
}

/** Safety 1.x: a list of [name, spec, version, advisory, id]; 2.x/3.x check: an object. */
export function parseSafety(doc: unknown, collector: Collector, manifest: string | undefined): void {
  collector.sawTool('safety');
  if (Array.isArray(doc)) {
    for (const entry of doc) {
      if (!Array.isArray(entry)) continue;
      const [name, spec, version, advisory, id] = entry.map((x) => (x === null || x === undefined ? '' : String(x)));
      collector.addFinding({
        tool: 'safety',
        rule: id || 'vulnerability',
        severity: 'error',
        file: manifest,
        message: `${name} ${version} (${spec}): ${advisory}`,
      });
    }
    return;
  }
  if (!isObject(doc)) return;
  for (const v of Array.isArray(doc.vulnerabilities) ? doc.vulnerabilities : []) {
    if (!isObject(v)) continue;
    const severity = isObject(v.severity) ? v.severity : {};
    const cvss3 = isObject(severity.cvssv3) ? severity.cvssv3 : {};
    const cvss2 = isObject(severity.cvssv2) ? severity.cvssv2 : {};
    const security =
      securityFromWord(cvss3.base_severity) ?? securityFromScore(num(cvss3.base_score) ?? num(cvss2.base_score));
    const cve = str(v.CVE);
    const fixed = Array.isArray(v.fixed_versions) && v.fixed_versions.length > 0 ? v.fixed_versions.join(', ') : '';
    collector.addFinding({
      tool: 'safety',
      rule: str(v.vulnerability_id) ?? 'vulnerability',
      severity: severityFromSecurity(security),
      security,
      file: manifest,
      message:
        `${str(v.package_name)} ${str(v.analyzed_version) ?? ''} (${str(v.vulnerable_spec) ?? ''})` +
        `${cve ? ` ${cve}` : ''}: ${str(v.advisory) ?? ''}${fixed ? ` Fixed in ${fixed}.` : ''}`,
    });
  }
}

/** npm audit v7+: one finding per vulnerable package, rated by npm's own severity for it; npm 6: one per advisory. */
export function parseNpmAudit(doc: Json, collector: Collector, manifest: string | undefined): void {
  collector.sawTool('npm-audit');
  if (!isObject(doc.vulnerabilities) && isObject(doc.advisories)) {
    for (const advisory of Object.values(doc.advisories)) {
      if (!isObject(advisory)) continue;
      const security = securityFromWord(advisory.severity);
      const versions = (Array.isArray(advisory.findings) ? advisory.findings : [])
        .map((f) => (isObject(f) ? str(f.version) : undefined))
        .filter(Boolean);
      collector.addFinding({
        tool: 'npm-audit',
        rule: scalarText(advisory.id, 'advisory'),
        severity: severityFromSecurity(security),
        security,
        file: manifest,
        message:
          `${str(advisory.module_name) ?? '?'} ${versions.join(', ')} (${str(advisory.vulnerable_versions) ?? ''}): ` +
          `${str(advisory.title) ?? 'advisory'} (${str(advisory.url) ?? ''}); ` +
          `${str(advisory.patched_versions) && advisory.patched_versions !== '<0.0.0' ? `fixed in ${str(advisory.patched_versions)}` : 'no fix available'}`,
      });
    }
    return;
  }
  const vulnerabilities = isObject(doc.vulnerabilities) ? doc.vulnerabilities : {};
  for (const [name, entry] of Object.entries(vulnerabilities)) {
    if (!isObject(entry)) continue;
    const security = securityFromWord(entry.severity);
    const via = Array.isArray(entry.via) ? entry.via : [];
    const advisories = via.filter(isObject);
    const through = via.filter((x): x is string => typeof x === 'string');
    const titles = advisories.map((a) => `${str(a.title) ?? 'advisory'} (${str(a.url) ?? str(a.severity)})`);
    const rule = advisories.length > 0 ? scalarText(advisories[0]?.source, 'advisory') : 'transitive';
    const fix = entry.fixAvailable;
    const fixText =
      fix === true
        ? 'fix available'
        : isObject(fix)
          ? `fix: ${str(fix.name)}@${str(fix.version)}${fix.isSemVerMajor ? ' (major)' : ''}`
          : 'no fix available';
    collector.addFinding({
      tool: 'npm-audit',
      rule,
      severity: severityFromSecurity(security),
      security,
      file: manifest,
      message:
        `${name} ${str(entry.range) ?? ''}: ` +
        `${titles.length > 0 ? titles.join('; ') : `vulnerable through ${through.join(', ')}`}; ${fixText}`,
    });
  }
}
