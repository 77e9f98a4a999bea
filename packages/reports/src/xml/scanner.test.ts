import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SaxesParser } from 'saxes';
import { KeptValue, XmlScanner, type XmlAttributes } from './scanner.ts';
import { scanXmlText } from './read.ts';
import { ReportError } from '../errors.ts';

interface Event {
  open?: string;
  attrs?: Record<string, string>;
  close?: string;
  text?: string;
}

function record(xml: string, capture = 0, chunkSize = 0): Event[] {
  const events: Event[] = [];
  const scanner = new XmlScanner({
    open(name, attrs) {
      events.push({ open: name, attrs: attrs.toObject() });
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

/** The attributes of the first element of `xml`, read inside `open` through `read`. */
function firstAttributes<T>(xml: string, read: (attrs: XmlAttributes) => T): T {
  let out: T | undefined;
  let done = false;
  scanXmlText(xml, {
    open(_name, attrs) {
      if (!done) out = read(attrs);
      done = true;
      return 0;
    },
    close() {},
  });
  return out as T;
}

test('attribute numbers read from the bytes equal what Number() makes of the decoded value', () => {
  const values = [
    '0',
    '7',
    '007',
    '12',
    '123456789',
    '1234567890',
    '123456789012345',
    '1234567890123456',
    '0.5',
    '0.375',
    '1.25',
    '0.123456789012',
    '3.14159265358979',
    '5.',
    '.5',
    '-1',
    '+2',
    ' 3 ',
    '1e3',
    '1,012.5',
    '0x10',
    '',
    'abc',
    '1.2.3',
    '9007199254740993',
    '&#49;&#50;',
    'é',
  ];
  for (const value of values) {
    const xml = `<a v="${value}"/>`;
    const decoded = firstAttributes(xml, (attrs) => attrs.get('v'));
    const read = firstAttributes(xml, (attrs) => attrs.number('v'));
    assert.ok(Object.is(read, Number(decoded)), `"${value}": ${read} vs Number(${decoded})`);
  }
  assert.equal(
    firstAttributes('<a v="1"/>', (attrs) => attrs.number('w')),
    undefined,
  );
});

test('attributes are looked up by name, decoded only when asked, and compared without decoding', () => {
  const xml = `<a branch="true" b='x &amp; y' n\u00e9="\u00fc" \u00e9t\u00e9="summer" long="${'z'.repeat(40)}" e=""/>`;
  const seen = firstAttributes(xml, (attrs) => ({
    branch: attrs.is('branch', 'true'),
    notFalse: attrs.is('branch', 'false'),
    amp: attrs.is('b', 'x & y'),
    missing: attrs.is('c', ''),
    b: attrs.get('b'),
    accented: attrs.get('n\u00e9'),
    accentedFirst: attrs.get('\u00e9t\u00e9'),
    long: attrs.get('long'),
    empty: attrs.get('e'),
    absent: attrs.get('bra'),
    all: attrs.toObject(),
  }));
  assert.deepEqual(seen, {
    branch: true,
    notFalse: false,
    amp: true,
    missing: false,
    b: 'x & y',
    accented: '\u00fc',
    accentedFirst: 'summer',
    long: 'z'.repeat(40),
    empty: '',
    absent: undefined,
    all: { branch: 'true', b: 'x & y', 'n\u00e9': '\u00fc', '\u00e9t\u00e9': 'summer', long: 'z'.repeat(40), e: '' },
  });
});

test('bad attribute values are refused while scanning, with line and column, even when no handler reads them', () => {
  const h = { open: () => 0, close: () => {} };
  assert.throws(
    () => scanXmlText('<a>\n <b x="1 < 2"/></a>', h, 'x.xml'),
    /line 2, column 7: '<' in the value of attribute 'x' of <b>/,
  );
  assert.throws(
    () => scanXmlText('<a>\n <b x="&bogus;"/></a>', h, 'x.xml'),
    /line 2, column 7: undefined entity &bogus;/,
  );
  assert.throws(() => scanXmlText('<a x="1"y="2"/>', h, 'x.xml'), /missing space after attribute 'x' of <a>/);
});

test('an element with many attributes (more than the first span table holds)', () => {
  const names = Array.from({ length: 40 }, (_, i) => `a${i}`);
  const xml = `<e ${names.map((n, i) => `${n}="${i}"`).join(' ')}/>`;
  const all = firstAttributes(xml, (attrs) => ({ obj: attrs.toObject(), last: attrs.number('a39') }));
  assert.equal(Object.keys(all.obj).length, 40);
  assert.equal(all.obj.a17, '17');
  assert.equal(all.last, 39);
});

test('kept values outlive the start tag: plain ones as bytes read without a string, others decoded', () => {
  const long = 'L'.repeat(300);
  const xml = `<a p="plain" e="x &amp; y" u="\u00fc" l="${long}" z=""/>`;
  const kept = { p: new KeptValue(), e: new KeptValue(), u: new KeptValue(), l: new KeptValue(), z: new KeptValue() };
  const absent = new KeptValue();
  const present = firstAttributes(xml, (attrs) => [
    ...Object.entries(kept).map(([name, into]) => attrs.keep(name, into)),
    attrs.keep('missing', absent),
  ]);
  assert.deepEqual(present, [true, true, true, true, true, false]);
  // The scanner's buffer is gone by now.
  assert.equal(kept.p.length, 5);
  assert.equal(String.fromCharCode(...Array.from({ length: 5 }, (_, i) => kept.p.charCodeAt(i))), 'plain');
  assert.deepEqual(
    Object.values(kept).map((k) => k.text()),
    ['plain', 'x & y', '\u00fc', long, ''],
  );
  assert.equal(kept.e.length, 5);
  assert.equal(kept.z.present, true);
  assert.equal(absent.present, false);
  assert.equal(absent.length, 0);
  assert.equal(absent.text(), undefined);
});

test('entity references in attribute values: the byte-level check accepts what decodeEntities accepts', () => {
  const h = { open: () => 0, close: () => {} };
  const ok = ['&lt;&gt;&amp;&quot;&apos;', 'a &#65; &#x42; &#x10FFFF;', '&#1114111;', '&#000000000065;'];
  for (const v of ok) assert.doesNotThrow(() => scanXmlText(`<a v="${v}"/>`, h), v);
  const bad: [string, RegExp][] = [
    ['&#0;', /invalid character reference &#0;/],
    ['&#x110000;', /invalid character reference/],
    ['&#;', /malformed entity reference/],
    ['&#X42;', /malformed entity reference/],
    ['&#12a;', /malformed entity reference/],
    ['&lt', /malformed entity reference/],
    ['&amp;&', /malformed entity reference/],
    ['&ltx;', /undefined entity &ltx;/],
  ];
  for (const [v, message] of bad) assert.throws(() => scanXmlText(`<a v="${v}"/>`, h), message, v);
});
