import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { testdata } from '../test-support/paths.js';
import { fromHex, toHex, utf8 } from './bytes.js';
import { canonicalBytes, canonicalize, MAX_DEPTH, parseCanonical } from './jcs.js';

const dir = testdata('jcs-rfc8785', 'testdata');

test('RFC 8785 reference vectors: every input/ file matches output/ and outhex/ byte-for-byte', () => {
  const names = readdirSync(join(dir, 'input')).filter((n) => n.endsWith('.json'));
  assert.ok(names.length > 0, 'no JCS vectors found');
  let exercised = 0;
  for (const name of names) {
    const input: unknown = JSON.parse(readFileSync(join(dir, 'input', name), 'utf8'));
    const expected = new Uint8Array(readFileSync(join(dir, 'output', name)));
    const hex = readFileSync(join(dir, 'outhex', name.replace(/\.json$/, '.txt')), 'utf8').replace(
      /\s+/g,
      '',
    );
    const got = canonicalBytes(input);
    assert.equal(toHex(got), toHex(expected), `${name}: output/ mismatch`);
    assert.equal(toHex(got), toHex(fromHex(hex)), `${name}: outhex/ mismatch`);
    // The canonical output must also be accepted by the strict wire parser.
    assert.equal(canonicalize(parseCanonical(new TextDecoder().decode(expected))), canonicalize(input), name);
    exercised++;
  }
  assert.equal(exercised, readdirSync(join(dir, 'input')).length, 'every file in input/ exercised');
  assert.equal(readdirSync(join(dir, 'output')).length, exercised);
  assert.equal(readdirSync(join(dir, 'outhex')).length, exercised);
});

test('keys sort by UTF-16 code units, not code points (§3.2.3)', () => {
  // U+1F600 is stored as D83D DE00, which sorts before U+FB33 although its code point is larger.
  assert.equal(canonicalize({ '\ufb33': 1, '\u{1f600}': 2, a: 3 }), '{"a":3,"\u{1f600}":2,"\ufb33":1}');
});

test('numbers follow ECMAScript Number.prototype.toString (§3.2.2.3)', () => {
  const cases: [number, string][] = [
    [0, '0'],
    [-0, '0'],
    [1, '1'],
    [-1.5, '-1.5'],
    [1e21, '1e+21'],
    [1e-7, '1e-7'],
    [0.000001, '0.000001'],
    [123456789012345680000, '123456789012345680000'],
    [Number.MAX_SAFE_INTEGER, '9007199254740991'],
    [5e-324, '5e-324'],
    [1.7976931348623157e308, '1.7976931348623157e+308'],
  ];
  for (const [n, s] of cases) assert.equal(canonicalize(n), s, String(n));
});

test('string escaping (§3.2.2.2)', () => {
  assert.equal(
    canonicalize('\u0000\u001f"\\/\b\f\n\r\t\u007f\u2028é'),
    '"\\u0000\\u001f\\"\\\\/\\b\\f\\n\\r\\t\u007f\u2028é"',
  );
  assert.equal(canonicalize('\u{1f600}'), '"\u{1f600}"');
  assert.deepEqual(canonicalBytes('€'), utf8('"€"'));
});

test('a shared (acyclic) sub-object is fine; nesting of exactly MAX_DEPTH is fine', () => {
  const shared = { x: 1 };
  assert.equal(canonicalize({ a: shared, b: shared }), '{"a":{"x":1},"b":{"x":1}}');
  assert.equal(MAX_DEPTH, 64);
  let v: unknown = 0;
  for (let i = 0; i < MAX_DEPTH; i++) v = [v];
  assert.equal(canonicalize(v), '['.repeat(64) + '0' + ']'.repeat(64));
  assert.equal(canonicalize(Object.assign(Object.create(null) as object, { b: 1, a: 2 })), '{"a":2,"b":1}');
});

test('rejects values with no I-JSON form', async (t) => {
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic['self'] = cyclic;
  const cyclicArray: unknown[] = [];
  cyclicArray.push([cyclicArray]);
  let deep: unknown = 0;
  for (let i = 0; i < MAX_DEPTH + 1; i++) deep = [deep];
  let deepObj: unknown = 0;
  for (let i = 0; i < MAX_DEPTH + 1; i++) deepObj = { k: deepObj };
  const cases: [string, unknown, RegExp][] = [
    ['NaN', NaN, /NaN/],
    ['Infinity', Infinity, /Infinity/],
    ['-Infinity', [-Infinity], /Infinity/],
    ['undefined', undefined, /undefined/],
    ['undefined member', { a: undefined }, /undefined/],
    ['sparse array hole', [1, , 3], /\$\[1\].*undefined/],
    ['function', { f: () => 1 }, /function/],
    ['symbol', Symbol('s'), /symbol/],
    ['symbol key', { [Symbol('s')]: 1 }, /symbol keys/],
    ['BigInt', 1n, /bigint/],
    ['Date', new Date(0), /Date is not a plain object/],
    ['Map', new Map(), /Map/],
    ['Uint8Array', new Uint8Array(1), /Uint8Array/],
    ['class instance', new (class Point {})(), /Point/],
    ['boxed string', Object('x'), /String/],
    ['lone high surrogate', 'a\ud800', /lone surrogate/],
    ['lone low surrogate', '\udc00b', /lone surrogate/],
    ['reversed surrogate pair', '\ude00\ud83d', /lone surrogate/],
    ['lone surrogate in key', { '\ud800': 1 }, /lone surrogate/],
    ['cycle through object', cyclic, /cyclic/],
    ['cycle through array', cyclicArray, /cyclic/],
    ['array depth 65', deep, /deeper than 64/],
    ['object depth 65', deepObj, /deeper than 64/],
  ];
  for (const [name, value, message] of cases) {
    await t.test(name, () => {
      assert.throws(
        () => canonicalize(value),
        (e: unknown) => e instanceof TypeError && message.test(e.message),
      );
    });
  }
});

test('parseCanonical accepts canonical text', () => {
  assert.deepEqual(parseCanonical('{"a":[1,"x",null,true],"b":{}}'), { a: [1, 'x', null, true], b: {} });
  assert.equal(parseCanonical('"\\u001f"'), '\u001f');
  assert.equal(parseCanonical('1e+21'), 1e21);
});

test('parseCanonical rejects non-canonical encodings', async (t) => {
  const cases: [string, string, RegExp][] = [
    ['duplicate key', '{"a":1,"a":1}', /duplicate object key "a"/],
    ['duplicate key, last wins in JSON.parse', '{"a":1,"b":2,"a":3}', /duplicate object key "a"/],
    ['duplicate key via escape', '{"a":1,"\\u0061":1}', /duplicate object key "a"/],
    ['duplicate nested key', '{"x":[{"k":1,"k":1}]}', /duplicate object key "k"/],
    ['whitespace', '{"a": 1}', /canonical form \(first difference at offset 5\)/],
    ['leading whitespace', ' {}', /canonical form/],
    ['trailing newline', '{}\n', /canonical form/],
    ['keys not sorted', '{"b":1,"a":2}', /canonical form/],
    ['1.0 for 1', '1.0', /canonical form/],
    ['-0', '-0', /canonical form/],
    ['exponent form', '1E3', /canonical form/],
    ['needless escape', '"\\u0041"', /canonical form/],
    ['escaped slash', '"\\/"', /canonical form/],
    ['upper-case hex escape', '"\\u001F"', /canonical form/],
    ['integer beyond 2^53 that does not round-trip', '9007199254740993', /canonical form/],
  ];
  for (const [name, text, message] of cases) {
    await t.test(name, () => {
      assert.throws(
        () => parseCanonical(text),
        (e: unknown) => e instanceof SyntaxError && message.test(e.message),
      );
    });
  }
  await t.test('invalid JSON', () => assert.throws(() => parseCanonical('{"a":}'), SyntaxError));
  await t.test('lone surrogate', () => assert.throws(() => parseCanonical('"\\ud800"'), /lone surrogate/));
  await t.test('depth 65', () =>
    assert.throws(() => parseCanonical('['.repeat(65) + ']'.repeat(65)), /deeper/),
  );
  await t.test('not confused by keys inside strings', () => {
    assert.deepEqual(parseCanonical('{"a":"{\\"a\\":1,\\"a\\":2}","b":["a","a"]}'), {
      a: '{"a":1,"a":2}',
      b: ['a', 'a'],
    });
  });
});
