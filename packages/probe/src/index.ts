// @adci/probe: HTTP smoke checks and load generation, shared by smoke-test and blue-green-deploy.
export { runSmoke, SMOKE_DEFAULTS, type SmokeSettings, type SmokePorts } from './engine.ts';
export {
  runChecks,
  waitForService,
  describeFailure,
  DEFAULT_STATUS,
  type ProbePorts,
  type CheckSettings,
  type WaitSettings,
} from './checks.ts';
export { runLoad, type LoadTarget, type LoadPorts } from './load.ts';
export { parseChecksDocument, mergeLoadOverrides, parseRate, defaultMaxInFlight, type LoadOverrides } from './spec.ts';
export { smokeSettings, type SmokeSettingsSource, type SmokeSettingName, type SettingNamer } from './settings.ts';
export {
  parseThreshold,
  evaluateThresholds,
  withImplicitErrorRate,
  IMPLICIT_ERROR_RATE,
  THRESHOLD_METRICS,
  type MetricSource,
} from './thresholds.ts';
export {
  createHttpClient,
  TransportError,
  type HttpClient,
  type HttpClientOptions,
  type HttpTlsOptions,
  type TransportErrorKind,
  type HttpRequest,
  type HttpResponse,
} from './http.ts';
export { toJUnitXml } from './junit.ts';
export {
  renderSmokeMarkdown,
  renderSmokeText,
  smokeFailureMessage,
  thresholdActual,
  IMPLICIT_THRESHOLD_NOTE,
} from './render.ts';
export { parseArtilleryScenario, type ArtilleryScenario, type ArtilleryFiles } from './artillery.ts';
export { loadRequests } from './flows.ts';
export { LatencyHistogram } from './histogram.ts';
export type * from './types.ts';
export {
  parseShard,
  shareOf,
  shardLoad,
  captureHistogram,
  writeShardResult,
  findShardFiles,
  mergeShards,
  histogramLog,
  shardFileName,
  SHARD_FORMAT,
  type ShardId,
  type ShardFile,
  type CapturedHistogram,
  type ShardWriteOptions,
} from './shards.ts';
