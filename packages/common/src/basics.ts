// The light building blocks: errors, ports, durations, sizes, templates, redaction, retry and wait.
// Everything but the YAML/JSON reader, so that an action's start-up path need not load a YAML parser.
export { InputError, errorMessage } from './errors.ts';
export { scalarText, markdownCell, markdownCode } from './text.ts';
export { parseDuration, formatDuration } from './duration.ts';
export { parseByteSize, formatBytes } from './size.ts';
export { type Logger, type Clock, systemClock, silentLogger, consoleLogger } from './ports.ts';
export { Redactor, redactUrlSecrets, redactingLogger, isSecretParameterName, urlSecrets } from './redact.ts';
export { writeReportFile } from './files.ts';
export { fillTemplate, fillTemplateDeep, templateNames, type TemplateLookup } from './template.ts';
export { retry, backoffDelay, DEFAULT_BACKOFF, type BackoffOptions, type RetryOptions } from './retry.ts';
export { waitUntil, WaitTimeoutError, type WaitOptions } from './wait.ts';
export { ADCI_VERSION } from './version.ts';
