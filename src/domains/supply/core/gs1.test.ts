import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { testdata } from '../../../test-support/paths.js';
import {
  Gs1Error,
  Gs1ErrorCodes,
  gs1CheckDigit,
  isValidGln,
  isValidGtin,
  isValidSscc,
  parseDigitalLink,
  parseEpcUri,
  parseGs1Identifier,
  toDigitalLink,
  toEpcUri,
  type Gs1ErrorCode,
  type Gs1Id,
} from './gs1.js';

function ok(r: Gs1Id | Gs1Error): Gs1Id {
  if (r instanceof Gs1Error) assert.fail(r.message);
  return r;
}
function str(r: string | Gs1Error): string {
  if (r instanceof Gs1Error) assert.fail(r.message);
  return r;
}
function code(r: unknown): string | undefined {
  return r instanceof Gs1Error ? r.code : undefined;
}

test('GS1 §7.9 check digits: GS1 and TDS worked examples', () => {
  assert.equal(gs1CheckDigit('629104150021'), 3); // GTIN-13 6291041500213
  assert.equal(gs1CheckDigit('1061414107346'), 4); // TDS §6.3.1 GTIN 10614141073464
  assert.equal(gs1CheckDigit('10614141234567890'), 8); // TDS §6.3.2 SSCC 106141412345678908
  assert.equal(gs1CheckDigit('061414112345'), 2); // TDS §6.3.3 GLN 0614141123452
  assert.equal(gs1CheckDigit('9638507'), 4); // GTIN-8 96385074
  assert.throws(
    () => gs1CheckDigit('12a4'),
    (e: unknown) => code(e) === 'BAD_CHARACTERS',
  );
  assert.throws(
    () => gs1CheckDigit(''),
    (e: unknown) => code(e) === 'BAD_CHARACTERS',
  );
});

test('GS1 keys: good ones accepted, every broken variant rejected', () => {
  for (const g of ['6291041500213', '06291041500213', '10614141073464', '96385074', '614141000036'])
    assert.ok(isValidGtin(g), g);
  for (const g of [
    '6291041500214',
    '0629104150021',
    '06291041500213 ',
    '0629104150021X',
    '',
    '123456789012345',
  ])
    assert.ok(!isValidGtin(g), g);
  assert.ok(isValidSscc('106141412345678908'));
  assert.ok(!isValidSscc('106141412345678909'));
  assert.ok(!isValidSscc('10614141234567890'));
  assert.ok(isValidGln('0614141123452'));
  assert.ok(!isValidGln('0614141123453'));
  assert.ok(!isValidGln('06141411234520'));
});

test('EPC URIs (TDS §6.3, §6.4.1, §8) parse to the canonical form', () => {
  const cases: [string, Gs1Id][] = [
    [
      'urn:epc:id:sgtin:0614141.107346.2017',
      { kind: 'sgtin', gtin: '10614141073464', serial: '2017', companyPrefix: '0614141' },
    ],
    [
      'urn:epc:id:sgtin:0614141.107346.a%2Fb%25c%22%3F',
      { kind: 'sgtin', gtin: '10614141073464', serial: 'a/b%c"?', companyPrefix: '0614141' },
    ],
    [
      'urn:epc:id:sscc:0614141.1234567890',
      { kind: 'sscc', sscc: '106141412345678908', companyPrefix: '0614141' },
    ],
    [
      'urn:epc:id:sgln:0614141.12345.400',
      { kind: 'gln', gln: '0614141123452', extension: '400', companyPrefix: '0614141' },
    ],
    ['urn:epc:id:sgln:0614141.12345.0', { kind: 'gln', gln: '0614141123452', companyPrefix: '0614141' }],
    ['urn:epc:id:pgln:0614141.00777', { kind: 'pgln', gln: '0614141007776', companyPrefix: '0614141' }],
    [
      'urn:epc:class:lgtin:4012345.012345.998877',
      { kind: 'lgtin', gtin: '04012345123456', lot: '998877', companyPrefix: '4012345' },
    ],
    [
      'urn:epc:idpat:sgtin:4012345.044444.*',
      { kind: 'gtin', gtin: '04012345444445', companyPrefix: '4012345' },
    ],
  ];
  for (const [uri, want] of cases) assert.deepEqual(parseEpcUri(uri), want, uri);
});

test('broken EPC URIs and Digital Links are rejected with their code', () => {
  const cases: [string, Gs1ErrorCode][] = [
    ['urn:epc:id:sgtin:0614141.10734.2017', 'BAD_LENGTH'],
    ['urn:epc:id:sgtin:0614141.1073466.2017', 'BAD_LENGTH'],
    ['urn:epc:id:sgtin:06141A1.107346.2017', 'BAD_CHARACTERS'],
    ['urn:epc:id:sgtin:0614141.107346.ser ial', 'BAD_CHARACTERS'],
    ['urn:epc:id:sgtin:0614141.107346.caf%C3%A9', 'BAD_CHARACTERS'],
    ['urn:epc:id:sgtin:0614141.107346.123456789012345678901', 'BAD_LENGTH'],
    ['urn:epc:id:sgtin:0614141.107346.', 'BAD_LENGTH'],
    ['urn:epc:id:sgtin:0614141.107346.%zz', 'MALFORMED'],
    ['urn:epc:id:sgtin:0614141.107346', 'MALFORMED'],
    ['urn:epc:id:sscc:0614141.1234.567890', 'MALFORMED'],
    ['urn:epc:id:sgtin:06141.1073461234.1', 'BAD_COMPANY_PREFIX'],
    ['urn:epc:id:sgtin:0614141234567.1.1', 'BAD_COMPANY_PREFIX'],
    ['urn:epc:id:sscc:0614141.123456789', 'BAD_LENGTH'],
    ['urn:epc:id:sgln:0614141.12345', 'MALFORMED'],
    ['urn:epc:id:giai:4012345.1', 'UNSUPPORTED_SCHEME'],
    ['urn:epc:id:foo:1.2', 'UNSUPPORTED_SCHEME'],
    ['urn:epc:idpat:sgtin:4012345.*.*', 'BAD_CHARACTERS'],
    ['urn:epc:idpat:sgtin:4012345.044444.12', 'UNSUPPORTED_SCHEME'],
    ['urn:isbn:0451450523', 'MALFORMED'],
    ['https://id.gs1.org/01/10614141073465/21/2017', 'BAD_CHECK_DIGIT'],
    ['https://id.gs1.org/01/1061414107346/21/2017', 'BAD_CHECK_DIGIT'],
    ['https://id.gs1.org/01/106141410734640/21/2017', 'BAD_LENGTH'],
    ['https://id.gs1.org/01/1061414107346X/21/2017', 'BAD_CHARACTERS'],
    ['https://id.gs1.org/00/106141412345678909', 'BAD_CHECK_DIGIT'],
    ['https://id.gs1.org/414/0614141123453', 'BAD_CHECK_DIGIT'],
    ['https://id.gs1.org/01/10614141073464/21/2017?17=251301', 'BAD_DATE'],
    ['https://id.gs1.org/01/10614141073464/21/2017?17=2512', 'BAD_DATE'],
    ['https://id.gs1.org/01/10614141073464/21/2017/10/LOT', 'MALFORMED'],
    ['https://id.gs1.org/00/106141412345678908/21/1', 'MALFORMED'],
    ['https://id.gs1.org/8004/4000001111', 'UNSUPPORTED_SCHEME'],
    ['https://example.com/products/123', 'MALFORMED'],
    ['ftp://id.gs1.org/00/106141412345678908', 'MALFORMED'],
    ['not a url', 'MALFORMED'],
  ];
  const wrong: string[] = [];
  for (const [input, want] of cases) {
    const r = parseGs1Identifier(input);
    if (code(r) !== want) wrong.push(`${input}: got ${code(r) ?? JSON.stringify(r)}, want ${want}`);
    if (r instanceof Gs1Error) assert.ok(r.message.startsWith(`${r.code}: `), r.message);
  }
  assert.deepEqual(wrong, []);
  for (const c of new Set(cases.map(([, c]) => c))) assert.equal(typeof Gs1ErrorCodes[c], 'string');
  // Every declared code is exercised above.
  assert.deepEqual(Object.keys(Gs1ErrorCodes).sort(), [...new Set(cases.map(([, c]) => c))].sort());
});

test('GS1 Digital Link (1.2 §4) parses GTIN/SSCC/GLN forms', () => {
  assert.deepEqual(ok(parseDigitalLink('https://id.gs1.org/01/09506000134352/10/AB-1/21/12345?17=251200')), {
    kind: 'sgtin',
    gtin: '09506000134352',
    serial: '12345',
    lot: 'AB-1',
    expiry: '251200',
  });
  assert.deepEqual(ok(parseDigitalLink('https://brand.example/shop/01/6291041500213/10/L%2F7')), {
    kind: 'lgtin',
    gtin: '06291041500213',
    lot: 'L/7',
  });
  assert.deepEqual(ok(parseDigitalLink('http://example.com/01/96385074')), {
    kind: 'gtin',
    gtin: '00000096385074',
  });
  assert.deepEqual(ok(parseDigitalLink('https://x.example/00/106141412345678908')), {
    kind: 'sscc',
    sscc: '106141412345678908',
  });
  assert.deepEqual(ok(parseDigitalLink('https://x.example/414/0614141123452/254/400')), {
    kind: 'gln',
    gln: '0614141123452',
    extension: '400',
  });
  assert.deepEqual(ok(parseDigitalLink('https://x.example/417/0614141007776')), {
    kind: 'pgln',
    gln: '0614141007776',
  });
});

test('EPC URI ⇄ Digital Link round trips (SGTIN, SSCC, SGLN, PGLN, LGTIN, GTIN)', () => {
  const uris = [
    'urn:epc:id:sgtin:0614141.107346.2017',
    'urn:epc:id:sgtin:0614141.107346.v1.2.3',
    'urn:epc:id:sgtin:0614141.107346.a%2Fb%25c%22%3F%26%3C%3E',
    "urn:epc:id:sgtin:952012345678.1.!'()*+,-.:;=_",
    'urn:epc:id:sscc:0614141.1234567890',
    'urn:epc:id:sscc:952012.12345678901',
    'urn:epc:id:sgln:0614141.12345.400',
    'urn:epc:id:sgln:0614141.12345.0',
    'urn:epc:id:sgln:952005385.011.ts4711',
    'urn:epc:id:pgln:0614141.00777',
    'urn:epc:class:lgtin:4012345.012345.998877',
    'urn:epc:idpat:sgtin:4012345.044444.*',
  ];
  for (const uri of uris) {
    const id = ok(parseEpcUri(uri));
    assert.equal(str(toEpcUri(id)), uri, `EPC → id → EPC ${uri}`);
    const dl = toDigitalLink(id, 'example.com');
    const back = ok(parseDigitalLink(dl));
    const { companyPrefix, ...withoutPrefix } = id;
    assert.ok(companyPrefix);
    assert.deepEqual(back, withoutPrefix, `${uri} → ${dl}`);
    // A Digital Link does not carry the company prefix length; it must be supplied.
    assert.equal(code(toEpcUri(back)), 'BAD_COMPANY_PREFIX');
    assert.equal(str(toEpcUri(back, companyPrefix.length)), uri, `${dl} → EPC`);
  }
  assert.equal(
    toDigitalLink({ kind: 'sgtin', gtin: '10614141073464', serial: '2017' }),
    'https://id.gs1.org/01/10614141073464/21/2017',
  );
  assert.equal(code(toEpcUri({ kind: 'sscc', sscc: '106141412345678909' }, 7)), 'BAD_CHECK_DIGIT');
  assert.equal(code(toEpcUri({ kind: 'gln', gln: '0614141123452' }, 13)), 'BAD_COMPANY_PREFIX');
});

test('every EPC URI and GS1 Digital Link in the EPCIS 2.0 examples parses', () => {
  const root = testdata('epcis2', 'JSON');
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
      d.isDirectory() ? walk(join(dir, d.name)) : [join(dir, d.name)],
    );
  const epc = new Set<string>();
  const links = new Set<string>();
  for (const file of walk(root).filter((f) => /\.(jsonld|json)$/.test(f))) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/urn:epc:(?:id|class|idpat):[^"\s]+/g)) epc.add(m[0]);
    for (const m of text.matchAll(
      /https?:\/\/[^"\s/]+(?:\/[^"\s/]+)*?\/(?:0[01]|41[47]|25[35]|40[12]|80(?:0[346]|1[0378]))\/\d[^"\s]*/g,
    ))
      links.add(m[0]);
  }
  const supportedEpc = /^urn:epc:(?:id:(?:sgtin|sscc|sgln|pgln)|class:lgtin|idpat:sgtin):/;
  const supportedLink = /^https?:\/\/[^/]+\/(?:[^?]*\/)?(?:00|01|414|417)\/\d/;
  const failures: string[] = [];
  let parsed = 0;
  for (const s of [...epc, ...links]) {
    const supported = s.startsWith('urn:') ? supportedEpc.test(s) : supportedLink.test(s);
    const r = parseGs1Identifier(s);
    if (supported) {
      if (r instanceof Gs1Error) failures.push(`${s}: ${r.message}`);
      else parsed += 1;
    } else if (code(r) !== 'UNSUPPORTED_SCHEME') {
      failures.push(`${s}: other GS1 scheme should be UNSUPPORTED_SCHEME, got ${code(r) ?? 'a parse'}`);
    }
  }
  console.log(
    `GS1 ids in EPCIS examples: ${epc.size} EPC URIs, ${links.size} Digital Links, ${parsed} parsed`,
  );
  assert.deepEqual(failures, []);
  assert.ok(epc.size > 50, `EPC URIs found: ${epc.size}`);
  assert.ok(links.size > 10, `Digital Links found: ${links.size}`);
  assert.ok(parsed > 50, `parsed: ${parsed}`);
  for (const kind of ['sgtin', 'sscc', 'gln', 'pgln', 'lgtin', 'gtin']) {
    assert.ok(
      [...epc, ...links].some((s) => {
        const r = parseGs1Identifier(s);
        return !(r instanceof Gs1Error) && r.kind === kind;
      }),
      `no example of ${kind}`,
    );
  }
});
