// Shared building blocks of the engines: errors, ports, durations, YAML/JSON, templates, redaction,
// retry and wait.
export * from './basics.ts';
export { parseStructured, parseStringMap, type ParsedDocument } from './structured.ts';
