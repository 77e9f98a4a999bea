// Validates every action.yml and every workflow file offline with GitHub's own parser
// (@actions/workflow-parser), and checks each action's metadata matches its bundle layout.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { registerHooks } from 'node:module';
import { parse as parseYaml } from 'yaml';

// The parser imports its JSON schemas without `with { type: 'json' }` (it expects a bundler).
registerHooks({
  load(url, context, nextLoad) {
    return url.endsWith('.json')
      ? nextLoad(url, { ...context, importAttributes: { type: 'json' } })
      : nextLoad(url, context);
  },
});
const { NoOperationTraceWriter, parseWorkflow } = await import('@actions/workflow-parser');
const { parseAction } = await import('@actions/workflow-parser/actions/action-parser');

const root = join(import.meta.dirname, '..');
const problems: string[] = [];

function errorsOf(result: { context: { errors: { getErrors(): { message: string }[] } } }): string[] {
  return result.context.errors.getErrors().map((e) => e.message);
}

export function actionNames(): string[] {
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(root, d.name, 'action.yml')))
    .map((d) => d.name);
}

for (const name of actionNames()) {
  const path = join(root, name, 'action.yml');
  const content = readFileSync(path, 'utf8');
  for (const message of errorsOf(parseAction({ name: `${name}/action.yml`, content }, new NoOperationTraceWriter()))) {
    problems.push(`${name}/action.yml: ${message}`);
  }
  const metadata = parseYaml(content) as { runs?: { using?: string; main?: string; post?: string } };
  if (metadata.runs?.using !== 'node24') problems.push(`${name}/action.yml: runs.using must be node24`);
  if (metadata.runs?.main !== `../dist/${name}/index.js`) {
    problems.push(`${name}/action.yml: runs.main must be ../dist/${name}/index.js`);
  }
  for (const script of [metadata.runs?.main, metadata.runs?.post].filter(Boolean) as string[]) {
    if (!existsSync(join(root, name, script)))
      problems.push(`${name}/action.yml: ${script} does not exist (npm run build)`);
  }
}

const workflowDirs = [
  join(root, '.github', 'workflows'),
  join(root, 'examples', 'ad-platform', '.github', 'workflows'),
];
for (const dir of workflowDirs.filter((d) => existsSync(d))) {
  for (const file of readdirSync(dir).filter((f) => /\.ya?ml$/.test(f))) {
    const path = join(dir, file);
    const result = parseWorkflow(
      { name: relative(root, path), content: readFileSync(path, 'utf8') },
      new NoOperationTraceWriter(),
    );
    for (const message of errorsOf(result)) problems.push(`${relative(root, path)}: ${message}`);
  }
}

if (problems.length > 0) {
  process.stderr.write(`${problems.join('\n')}\n`);
  process.exit(1);
}
process.stdout.write(`validated ${actionNames().length} action.yml file(s) and the workflows\n`);
