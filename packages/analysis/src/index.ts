// @adci/analysis: metric analysis against Prometheus (blue-green-deploy's pre/post-promotion
// analysis and smoke-test's analysis input): parse the analysis file, measure, judge, render.
export { parseCondition, holds, type Condition, type Comparison, type Operator } from './condition.ts';
export {
  parseAnalysisDocument,
  requirePrometheus,
  ANALYSIS_DEFAULTS,
  ANALYSIS_PLACEHOLDERS,
  INCONCLUSIVE_POLICIES,
  type AnalysisDocument,
  type MetricSpec,
  type InconclusivePolicy,
  type ParseAnalysisOptions,
} from './spec.ts';
export {
  PrometheusClient,
  PrometheusError,
  displayUrl,
  type PrometheusErrorKind,
  type PrometheusAuth,
  type QueryResult,
  type Sample,
} from './prometheus.ts';
export {
  runAnalysis,
  analysisSettings,
  type AnalysisSource,
  type AnalysisSettingName,
  formatValue,
  type AnalysisResult,
  type AnalysisSettings,
  type AnalysisPorts,
  type MetricResult,
  type Measurement,
  type MeasurementOutcome,
  type MetricOutcome,
} from './engine.ts';
export { renderAnalysisMarkdown, renderAnalysisText, metricChart } from './render.ts';
