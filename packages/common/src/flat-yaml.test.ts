// The flat reader against the YAML parser: on generated documents of both shapes (a mapping, a
// list of mappings) it reads either exactly what YAML reads, values and lines, or nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFlatYaml } from './flat-yaml.ts';
import { parseStructured } from './structured.ts';

const KEYS = ['path', 'name', 'expect-status', 'tests.failed', 'coverage.line', 'x_y-z.total', 'Path', 'a..b', '1a'];
const VALUES = [
  ...['0', '80', '80.5', '0.25', '01', '1.', '.5', '-1', '+1', '1e3', '0x10', '0o7', '1_000', '80%', '12:30'],
  ...['"80%"', "'>= 80'", '">= 80"', '>= 80', '<= 20', '< 5', '== 0', '= 3', '<=', '<<', '"a\\"b"', "'it''s'"],
  ...['~', 'null', 'Null', 'NULL', 'true', 'True', 'false', 'yes', 'no', 'on', 'off', 'y', 'n', '.inf', '.nan'],
  ...['[1]', '{a: 1}', '80 # comment', '"<= 1" #c', '&a 1', '*a', '!!str 5', '!x', '@x', '`x`', '%x', '|', '>'],
  ...['/', '/healthz', '/api/v1/items?id=1&x=2', '/a#frag', '/a b', 'a - b', 'GET', 'a,b', '(x)', 'a;b', 'a!b'],
  ...['"', "''", '""', '"x"', "'x'", '"#"', '"a: b"', 'a: b', '- a', '? a', 'a ', ' a', 'Ünï', '"é"', 'a\u00a0b'],
];

function* documents(): Generator<string> {
  const lines = [
    ...KEYS.flatMap((k) => VALUES.map((v) => `${k}: ${v}`)),
    ...['# a comment', '', '   ', '  # indented comment', 'tests:', '  failed: 0', '---', '...', '\tpath: /'],
    ...['path:/', 'path :/', 'path: /\r', 'path:', '-', '- ', '-path: /', '-  path: /', '  - path: /'],
  ];
  let seed = 11;
  const next = (n: number): number => (seed = (seed * 1103515245 + 12345) % 2147483648) % n;
  const pick = (): string => lines[next(lines.length)] as string;
  for (const line of lines) {
    yield line;
    yield `- ${line}`;
  }
  for (let i = 0; i < 4000; i++) {
    // A mapping, or a list whose items continue on lines indented by two.
    const count = 1 + next(4);
    if (next(2) === 0) yield Array.from({ length: count }, pick).join('\n');
    else
      yield Array.from({ length: count }, (_, j) =>
        j === 0 || next(3) === 0 ? `- ${pick()}` : next(5) === 0 ? pick() : `  ${pick()}`,
      ).join('\n');
  }
  yield 'tests.failed: 0\ntests.failed: 1';
  yield '- path: /\n  path: /x';
  yield '- path: /\n- path: /x\n  name: x';
}

function paths(value: unknown): (string | number)[][] {
  const out: (string | number)[][] = [[], ['checks'], ['checks', 0], ['0'], ['1e0'], [''], ['1', 'path']];
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      out.push([i], [i, 'missing'], [String(i)], [i, 'path', 'deeper']);
      for (const key of Object.keys(item as object)) out.push([i, key], [i, key, 0]);
    });
    out.push([value.length]);
  } else {
    for (const key of Object.keys(value as object)) out.push([key], [key, 'x']);
    out.push(['missing'], [0]);
  }
  return out;
}

test('the flat reader reads what YAML reads (values and lines), or leaves the text to YAML', () => {
  let flat = 0;
  let lists = 0;
  let total = 0;
  for (const text of documents()) {
    total++;
    const fast = readFlatYaml(text);
    if (!fast) continue;
    flat++;
    if (Array.isArray(fast.value)) lists++;
    const yaml = parseStructured(text, 'input');
    assert.deepEqual(fast.value, yaml.value, JSON.stringify(text));
    for (const path of paths(fast.value)) {
      assert.equal(fast.lineOf(path), yaml.lineOf(path), `${JSON.stringify(text)}: line of ${JSON.stringify(path)}`);
    }
  }
  assert.ok(flat > total / 20 && lists > total / 40, `${flat} of ${total} read flat, ${lists} lists`);
});

test('the forms inputs take most: the gate default, thresholds, a list of checks', () => {
  assert.deepEqual(readFlatYaml('tests.failed: 0')?.value, { 'tests.failed': 0 });
  assert.deepEqual(readFlatYaml('# gate\ncoverage.line: ">= 80"\nbandit.high: 0\n')?.value, {
    'coverage.line': '>= 80',
    'bandit.high': 0,
  });
  const checks = readFlatYaml('- path: /\n- name: api\n  path: /api/v1/items?id=1\n  expect-status: 200\n');
  assert.deepEqual(checks?.value, [{ path: '/' }, { name: 'api', path: '/api/v1/items?id=1', 'expect-status': 200 }]);
  assert.equal(checks?.lineOf([1, 'expect-status']), 4);
  for (const text of ['coverage: { line: 80 }', 'path: >= 80', 'a: 1 # c', '- path: [1]', 'a: 1\na: 2', 'on: true']) {
    assert.equal(readFlatYaml(text), undefined, text);
  }
});
