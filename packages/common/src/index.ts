// Shared building blocks of the engines: errors, ports, durations, YAML/JSON, templates, redaction.
export { InputError, errorMessage } from './errors.ts';
export { parseDuration, formatDuration } from './duration.ts';
export { type Logger, type Clock, systemClock, silentLogger, consoleLogger } from './ports.ts';
export { Redactor } from './redact.ts';
export { parseStructured, parseStringMap, type ParsedDocument } from './structured.ts';
export { fillTemplate, fillTemplateDeep, templateNames, type TemplateLookup } from './template.ts';
