import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SaxesParser } from 'saxes';
import { XmlScanner, type XmlAttributes } from './scanner.ts';
import { scanXmlText } from './read.ts';
import { ReportError } from '../errors.ts';

interface Event {
  open?: string;
  attrs?: XmlAttributes;
  close?: string;
  text?: string;
}

function record(xml: string, capture = 0, chunkSize = 0): Event[] {
  const events: Event[] = [];
  const scanner = new XmlScanner({
    open(name, attrs) {
      events.push({ open: name, attrs });
      return capture;
    },
    close(name, text) {
      events.push(capture ? { close: name, text } : { close: name });
    },
  });
  const bytes = Buffer.from(xml, 'utf8');
  if (chunkSize === 0) scanner.feed(bytes);
  else for (let i = 0; i < bytes.length; i += chunkSize) scanner.feed(bytes.subarray(i, i + chunkSize));
  scanner.end();
  return events;
}

const SAMPLE =
  '<?xml version="1.0"?>\n<!-- c -->\n<a x="1 &amp; 2" y=\'&lt;&#65;&#x42;&gt;\'>\n  text &amp; more <b/>\n' +
  '  <![CDATA[raw <xml> ]] here]]><c k="é">ü &quot;q&quot;</c>\n</a>\n';

test('decodes attributes, text, CDATA and the predefined entities', () => {
  const events = record(SAMPLE, 1000);
  assert.deepEqual(events[0], { open: 'a', attrs: { x: '1 & 2', y: '<AB>' } });
  const c = events.find((e) => e.close === 'c');
  assert.equal(c?.text, 'ü "q"');
  const a = events.find((e) => e.close === 'a');
  assert.match(a?.text ?? '', /text & more/);
  assert.match(a?.text ?? '', /raw <xml> \]\] here/);
});

test('gives the same events whatever the chunk boundaries', () => {
  const whole = record(SAMPLE, 1000);
  for (const size of [1, 2, 3, 5, 7, 13]) assert.deepEqual(record(SAMPLE, 1000, size), whole, `chunk size ${size}`);
});

test('a short comment at the very end, and multi-byte text split across chunks', () => {
  assert.equal(record('<a/><!--x-->', 0).length, 2);
  const events = record('<a><![CDATA[ééé]]>ü</a>', 100, 1);
  assert.equal(events.at(-1)?.text, 'éééü');
});

test('collects at most the asked number of characters', () => {
  const events = record('<a>0123456789<![CDATA[abcdef]]></a>', 4);
  assert.equal(events.at(-1)?.text, '0123');
});

test('rejects a DOCTYPE declaring entities (billion laughs) before expanding anything', () => {
  const bomb =
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">\n]>\n<lolz>&lol2;</lolz>';
  assert.throws(
    () => scanXmlText(bomb, { open: () => 0, close: () => {} }, 'bomb.xml'),
    (e: unknown) => e instanceof ReportError && /line 2, column 1: DOCTYPE with an internal subset/.test(e.message),
  );
});

test('rejects undefined entities and external entity references', () => {
  assert.throws(() => record('<a>&xxe;</a>', 100), /undefined entity &xxe;/);
  assert.throws(() => record('<a b="&ext;"/>'), /undefined entity &ext;/);
});

test('a DOCTYPE without an internal subset is accepted and nothing is fetched', () => {
  const events = record('<!DOCTYPE report PUBLIC "-//JACOCO//DTD Report 1.1//EN" "report.dtd"><report/>');
  assert.equal(events[0]?.open, 'report');
});

test('reports truncation and mismatched tags with line and column', () => {
  const h = { open: () => 0, close: () => {} };
  assert.throws(
    () => scanXmlText('<a>\n  <b>\n', h, 'x.xml'),
    /x\.xml: line 3, column 1: unexpected end of file: <b> is not closed/,
  );
  assert.throws(
    () => scanXmlText('<a>\n <b></c>\n</a>', h, 'x.xml'),
    /line 2, column 5: closing tag <\/c> does not match <b>/,
  );
  assert.throws(() => scanXmlText('<a x="1', h, 'x.xml'), /unexpected end of file inside a tag/);
  assert.throws(() => scanXmlText('', h, 'x.xml'), /no root element/);
  assert.throws(() => scanXmlText('<a/><b/>', h, 'x.xml'), /a second root element/);
  assert.throws(() => scanXmlText('<a x=1/>', h, 'x.xml'), /not quoted/);
});

test('saxes, the library alternative, does not expand entity bombs either (it errors on them)', () => {
  // Checked so the choice of a hand-written scanner is about speed, not safety.
  const parser = new SaxesParser();
  const texts: string[] = [];
  parser.on('text', (t) => texts.push(t));
  assert.throws(() => {
    parser
      .write('<!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><l>&b;</l>')
      .close();
  }, /undefined entity|entity/i);
  assert.ok(texts.join('').length < 100);
});
