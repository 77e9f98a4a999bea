// Shared building blocks of the engines: errors, ports, durations, templates, redaction, retry and
// wait. The YAML/JSON reader is '@adci/common/structured', apart so that importing this index does
// not load the YAML parser (a run that reads no YAML, such as the gate on its default thresholds).
export * from './basics.ts';
