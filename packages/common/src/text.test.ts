import { test } from 'node:test';
import assert from 'node:assert/strict';
import { markdownCell, markdownCode, scalarText } from './text.ts';

test('scalarText: scalars as String() writes them, the rest as JSON, never [object Object]', () => {
  assert.equal(scalarText('GHSA-1234'), 'GHSA-1234');
  assert.equal(scalarText(1089), '1089');
  assert.equal(scalarText(false), 'false');
  assert.equal(scalarText(10n), '10');
  assert.equal(scalarText({ id: 7 }), '{"id":7}');
  assert.equal(scalarText(['a', 1]), '["a",1]');
  assert.equal(scalarText(undefined), '');
  assert.equal(scalarText(null, 'advisory'), 'advisory');
  assert.equal(scalarText(Symbol('s'), 'x'), 'x');
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.equal(scalarText(cyclic, 'unreadable'), 'unreadable');
});

test('markdownCell: one line, a pipe cannot split the row, no HTML tag opens', () => {
  assert.equal(markdownCell('a | b\r\nc <img src=x>'), 'a \\| b c &lt;img src=x>');
  assert.equal(markdownCell(42), '42');
  // A code span the text holds keeps its `<` (GitHub shows `&lt;` literally there); outside it, escaped.
  assert.equal(
    markdownCell('metric failed: 2 missed `result < 0.01`; last <b>'),
    'metric failed: 2 missed `result < 0.01`; last &lt;b>',
  );
  assert.equal(markdownCell('``a ` < b`` < c'), '``a ` < b`` &lt; c');
});

test('markdownCode: inline code on one line, pipes escaped, < kept, fenced past its own backticks', () => {
  assert.equal(markdownCode('p(99)<1s'), '`p(99)<1s`');
  assert.equal(markdownCode('a|b\nc'), '`a\\|b c`');
  assert.equal(markdownCode('say `x`'), '`` say `x` ``');
  assert.equal(markdownCode('a ``b`` c'), '```a ``b`` c```');
});
