// The one place that turns smoke-test settings, as the smoke-test action's inputs and `adci smoke`'s
// options give them, into validated engine settings. Each front end parses its own scalars (an
// action input, a command-line flag) and names them its own way; the rules between them live here.
import { InputError, parseByteSize, redactUrlSecrets } from '@adci/common/basics';
import { SMOKE_DEFAULTS, type SmokeSettings } from './engine.ts';
import { mergeLoadOverrides, parseChecksDocument, type LoadOverrides } from './spec.ts';
import { parseShard, shardLoad } from './shard-plan.ts';
import type { ArtilleryScenario } from './artillery.ts';
import type { ChecksDocument } from './types.ts';
import { dirname, isAbsolute, join } from 'node:path';

/** The setting names messages use: the action's input names; the CLI prefixes them with `--`. */
export type SmokeSettingName =
  | 'base-url'
  | 'checks'
  | 'checks-file'
  | 'wait-for'
  | 'wait-interval'
  | 'timeout'
  | 'max-body'
  | 'load-rate'
  | 'load-connections'
  | 'load-start-at'
  | 'shard'
  | 'artillery'
  | 'load-*';

export interface SmokeSettingsSource {
  baseUrl: string;
  /** Inline checks document (YAML/JSON); '' when not given. */
  checks: string;
  /** The checks-file setting as written; '' when not given. */
  checksFile: string;
  /** Reads the checks file (relative to whatever the front end's base is); errors name the setting. */
  readChecksFile: (path: string) => string;
  waitFor: string;
  waitTimeoutMs?: number;
  waitIntervalMs?: number;
  retries?: number;
  timeoutMs?: number;
  headers: Record<string, string>;
  failFast?: boolean;
  insecureTls?: boolean;
  /** The body cap as written (`4MiB`, `512KiB`, `1048576`); '' or undefined for the default, 4 MiB. */
  maxBody?: string;
  load: LoadOverrides;
  /** `i/n`: run shard i of n of the load phase (shards.ts); '' or undefined when not sharded. */
  shard?: string;
  /** When the load phase starts: an ISO 8601 time; '' or undefined for at once. */
  loadStartAt?: string;
  /** An Artillery scenario file run as the load phase (artillery.ts); '' or undefined when not given. */
  artillery?: string;
  /**
   * Reads the scenario file, or a payload file it names (`path` is then joined to the scenario's
   * directory); relative to the front end's base, errors name the setting.
   */
  readArtilleryFile?: (path: string) => string;
}

/** The largest body cap accepted: a body is held in memory (as one string) while it is judged. */
export const MAX_BODY_LIMIT = 256 * 1024 * 1024;

/** How a front end spells a setting in messages: `base-url` (action input) or `--base-url` (CLI flag). */
export type SettingNamer = (name: SmokeSettingName) => string;

function checkBaseUrl(value: string, name: string): string {
  if (!value) throw new InputError(name, 'is required but was not given');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InputError(name, `'${redactUrlSecrets(value)}' is not a URL (write e.g. https://staging.example.com)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InputError(name, `must be an http or https URL, not ${url.protocol}`);
  }
  return url.href;
}

async function readArtillery(source: SmokeSettingsSource, name: SettingNamer): Promise<ArtilleryScenario | undefined> {
  const file = source.artillery?.trim();
  if (!file) return undefined;
  const read = source.readArtilleryFile;
  if (!read) throw new InputError(name('artillery'), 'cannot be read here');
  const text = read(file);
  // Loaded only for a scenario: its reader and the YAML parser it needs.
  const { parseArtilleryScenario } = await import('./artillery.ts');
  return parseArtilleryScenario(text, `${name('artillery')} ${file}`, {
    readPayload: (path) => read(isAbsolute(path) ? path : join(dirname(file), path)),
  });
}

async function readDocument(source: SmokeSettingsSource, name: SettingNamer): Promise<ChecksDocument> {
  const inline = source.checks.trim() !== '';
  if (inline && source.checksFile) {
    throw new InputError(name('checks'), `give either ${name('checks')} or ${name('checks-file')}, not both`);
  }
  if (inline) return parseChecksDocument(source.checks, name('checks'));
  if (!source.checksFile) return { checks: [] };
  const text = source.readChecksFile(source.checksFile);
  return parseChecksDocument(text, `${name('checks-file')} ${source.checksFile}`);
}

/**
 * Validated engine settings, or an InputError naming the setting at fault: a base URL that is
 * not http(s), both inline checks and a checks file, both an open and a closed load model,
 * nothing to do, a zero timeout or wait interval, or a `max-body` that is not a size. Unset values take SMOKE_DEFAULTS.
 */
export async function smokeSettings(
  source: SmokeSettingsSource,
  name: SettingNamer = (n) => n,
): Promise<SmokeSettings> {
  const scenario = await readArtillery(source, name);
  const baseUrl = checkBaseUrl(source.baseUrl || (scenario?.target ?? ''), name('base-url'));
  const document = await readDocument(source, name);
  if (source.load.rate !== undefined && source.load.connections !== undefined) {
    throw new InputError(
      name('load-connections'),
      `give ${name('load-rate')} (open model) or ${name('load-connections')} (closed model), not both`,
    );
  }
  if (scenario) {
    // The scenario's phases are the load phase: a second definition would be silently dropped.
    const given = Object.entries(source.load).filter(
      ([, v]) => v !== undefined && !(Array.isArray(v) && v.length === 0),
    );
    if (given.length > 0) {
      throw new InputError(
        name('artillery'),
        `the scenario's phases are the load phase: give ${name('artillery')} or ${name('load-*')} settings, not both`,
      );
    }
    if (document.load) throw new InputError(name('artillery'), `the checks also define a load phase: give one of them`);
    if (source.shard) throw new InputError(name('shard'), `shards of an Artillery scenario are not supported yet`);
  }
  const load = scenario ? scenario.load : mergeLoadOverrides(document.load, source.load, name('load-*'));
  // Fail closed: a run with no checks and no thresholds would pass having judged nothing (a load
  // phase always has thresholds: at least the implicit error rate).
  if (document.checks.length === 0 && !load) {
    throw new InputError(
      name('checks'),
      `nothing to judge: no checks and no load phase; give ${name('checks')} or ${name('checks-file')}, or a load phase` +
        (source.waitFor
          ? ` (${name('wait-for')} alone only waits; add a check such as '- path: ${source.waitFor}')`
          : ''),
    );
  }
  const settings: SmokeSettings = {
    ...SMOKE_DEFAULTS,
    baseUrl,
    checks: document.checks,
    headers: source.headers,
  };
  if (source.waitTimeoutMs !== undefined) settings.waitTimeoutMs = source.waitTimeoutMs;
  if (source.waitIntervalMs !== undefined) settings.waitIntervalMs = source.waitIntervalMs;
  if (source.retries !== undefined) settings.retries = source.retries;
  if (source.timeoutMs !== undefined) settings.timeoutMs = source.timeoutMs;
  if (source.failFast !== undefined) settings.failFast = source.failFast;
  if (source.insecureTls !== undefined) settings.insecureTls = source.insecureTls;
  if (source.maxBody !== undefined && source.maxBody.trim() !== '') {
    settings.maxBodyBytes = parseByteSize(source.maxBody, name('max-body'), MAX_BODY_LIMIT);
  }
  settings.maxBodySetting = name('max-body');
  if (settings.timeoutMs <= 0) throw new InputError(name('timeout'), 'must be longer than 0');
  if (settings.waitIntervalMs <= 0) throw new InputError(name('wait-interval'), 'must be longer than 0');
  if (load) settings.load = load;
  if (source.shard) {
    const shard = parseShard(source.shard, name('shard'));
    if (!load) throw new InputError(name('shard'), `a shard runs part of a load phase, but none is defined`);
    settings.load = shardLoad(load, shard, { shard: name('shard'), connections: name('load-connections') });
    settings.shard = { ...shard, plan: load };
  }
  if (source.loadStartAt) {
    const at = Date.parse(source.loadStartAt);
    if (!/^\d{4}-\d\d-\d\dT/.test(source.loadStartAt.trim()) || Number.isNaN(at)) {
      throw new InputError(
        name('load-start-at'),
        `'${source.loadStartAt}' is not an ISO 8601 time (e.g. 2030-01-01T12:00:00Z)`,
      );
    }
    if (!load) throw new InputError(name('load-start-at'), 'there is no load phase to start');
    settings.loadStartAtMs = at;
  }
  if (source.waitFor) settings.waitFor = source.waitFor;
  return settings;
}
