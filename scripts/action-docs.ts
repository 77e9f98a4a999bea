// Keeps the inputs/outputs table in each <action>/README.md in step with its action.yml.
// `--write` regenerates the tables; without it, any drift fails (npm test runs the check).
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';

const root = join(import.meta.dirname, '..');
const START = '<!-- action-docs:start -->';
const END = '<!-- action-docs:end -->';

interface Metadata {
  inputs?: Record<string, { description?: string; required?: boolean; default?: string }>;
  outputs?: Record<string, { description?: string }>;
}

const cell = (text: string): string =>
  text
    .replace(/\|/g, '\\|')
    .replace(/\s*\n\s*/g, ' ')
    .trim();

export function renderTables(metadata: Metadata): string {
  const lines = ['### Inputs', '', '| Name | Required | Default | Description |', '|---|---|---|---|'];
  for (const [name, spec] of Object.entries(metadata.inputs ?? {})) {
    const fallback = spec.default === undefined || spec.default === '' ? '' : `\`${cell(String(spec.default))}\``;
    lines.push(`| \`${name}\` | ${spec.required ? 'yes' : 'no'} | ${fallback} | ${cell(spec.description ?? '')} |`);
  }
  lines.push('', '### Outputs', '', '| Name | Description |', '|---|---|');
  for (const [name, spec] of Object.entries(metadata.outputs ?? {})) {
    lines.push(`| \`${name}\` | ${cell(spec.description ?? '')} |`);
  }
  return lines.join('\n');
}

const write = process.argv.includes('--write');
const drift: string[] = [];
for (const dir of readdirSync(root, { withFileTypes: true })) {
  const actionYml = join(root, dir.name, 'action.yml');
  if (!dir.isDirectory() || !existsSync(actionYml)) continue;
  const readme = join(root, dir.name, 'README.md');
  const text = existsSync(readme) ? readFileSync(readme, 'utf8') : '';
  const start = text.indexOf(START);
  const end = text.indexOf(END);
  if (start < 0 || end < start) {
    drift.push(`${dir.name}/README.md: missing the ${START} … ${END} markers`);
    continue;
  }
  const tables = renderTables(parseYaml(readFileSync(actionYml, 'utf8')) as Metadata);
  const updated = `${text.slice(0, start + START.length)}\n${tables}\n${text.slice(end)}`;
  if (updated === text) continue;
  if (write) writeFileSync(readme, updated);
  else drift.push(`${dir.name}/README.md: the inputs/outputs table differs from action.yml (run npm run docs)`);
}
if (drift.length > 0) {
  process.stderr.write(`${drift.join('\n')}\n`);
  process.exit(1);
}
