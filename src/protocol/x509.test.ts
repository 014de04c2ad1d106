import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createHash, createPublicKey, verify as nodeVerify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AsnParser, AsnSerializer, OctetString } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier,
  AttributeTypeAndValue,
  AttributeValue,
  Certificate,
  Extension,
  Extensions,
  Name,
  RelativeDistinguishedName,
  Time,
} from '@peculiar/asn1-x509';
import type { TBSCertificate } from '@peculiar/asn1-x509';
import { generateKeyPair, publicKeyOf, sign } from './ed25519.js';
import {
  ATTRIBUTES_EXTENSION_OID,
  CertificateError,
  CertificateErrorCodes,
  MAX_CERTIFICATE_BYTES,
  ROLES,
  createCaCertificate,
  fromPem,
  issueMemberCertificate,
  parseCertificate,
  toPem,
  verifyIssuedBy,
  verifySelfSigned,
} from './x509.js';
import type { CertificateErrorCode, ParsedCertificate, Role } from './x509.js';

// ---------------------------------------------------------------------------------------------
// Fixtures (deterministic: fixed seeds and times)
// ---------------------------------------------------------------------------------------------

const seed = (n: number): Uint8Array => new Uint8Array(32).fill(n);
const CA_KEY = seed(1);
const ROGUE_CA_KEY = seed(2);
const OTHER_ORG_CA_KEY = seed(3);
const ALICE_KEY = seed(4);

const CA_FROM = Date.UTC(2025, 0, 1);
const CA_UNTIL = Date.UTC(2035, 0, 1);
const MEMBER_FROM = Date.UTC(2025, 0, 1, 12);
const MEMBER_UNTIL = Date.UTC(2026, 0, 1);
const AT = Date.UTC(2025, 5, 1);
const ATTRS = { licence: 'MD-12345', specialty: 'endocrinology' };

function makeCa(orgId: string, privateKey: Uint8Array, notAfterMs = CA_UNTIL): Uint8Array {
  return createCaCertificate({ orgId, privateKey, serial: '01', notBeforeMs: CA_FROM, notAfterMs });
}

const caDer = makeCa('st-mary', CA_KEY);

function issue(overrides: Partial<Parameters<typeof issueMemberCertificate>[0]> = {}): Uint8Array {
  return issueMemberCertificate({
    orgId: 'st-mary',
    caPrivateKey: CA_KEY,
    caCertificate: caDer,
    memberId: 'dr-alice',
    role: 'practitioner',
    attributes: ATTRS,
    publicKey: publicKeyOf(ALICE_KEY),
    serial: '1001',
    notBeforeMs: MEMBER_FROM,
    notAfterMs: MEMBER_UNTIL,
    ...overrides,
  });
}

const aliceDer = issue();
const ca = parseCertificate(caDer);
const alice = parseCertificate(aliceDer);

/** Asserts that `fn` throws a CertificateError with exactly `code`. */
function expectCode(fn: () => unknown, code: CertificateErrorCode): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof CertificateError, `expected CertificateError, got ${String(e)}`);
    assert.equal(e.code, code, `expected ${code}, got ${e.message}`);
    assert.ok(e.code in CertificateErrorCodes);
    return true;
  });
}

/** Re-signs a mutated copy of `der` with `signer`, so only the mutation (not the signature) is wrong. */
function resign(der: Uint8Array, mutate: (tbs: TBSCertificate, cert: Certificate) => void, signer = CA_KEY) {
  const cert = AsnParser.parse(der, Certificate);
  mutate(cert.tbsCertificate, cert);
  const tbs = new Uint8Array(AsnSerializer.serialize(cert.tbsCertificate));
  cert.signatureValue = sign(tbs, signer).slice().buffer;
  return new Uint8Array(AsnSerializer.serialize(cert));
}

function rdn(type: string, value: AttributeValue): RelativeDistinguishedName {
  return new RelativeDistinguishedName([new AttributeTypeAndValue({ type, value })]);
}
const utf8Value = (s: string) => new AttributeValue({ utf8String: s });
const CN = '2.5.4.3';
const O = '2.5.4.10';
const OU = '2.5.4.11';

function subjectName(parts: [string, string][]): Name {
  return new Name(parts.map(([type, value]) => rdn(type, utf8Value(value))));
}

function ext(extnID: string, critical: boolean, value: Uint8Array): Extension {
  return new Extension({ extnID, critical, extnValue: new OctetString(value) });
}

function utf8StringDer(s: string): Uint8Array {
  const body = Buffer.from(s, 'utf8');
  assert.ok(body.length < 128);
  return Uint8Array.from([0x0c, body.length, ...body]);
}

/** Replaces the attribute extension value of a re-signed member certificate. */
function withAttributeValue(value: Uint8Array): Uint8Array {
  return resign(aliceDer, (tbs) => {
    tbs.extensions = new Extensions(tbs.extensions!.filter((e) => e.extnID !== ATTRIBUTES_EXTENSION_OID));
    tbs.extensions!.push(ext(ATTRIBUTES_EXTENSION_OID, false, value));
  });
}

function flipBit(der: Uint8Array, index: number, mask = 0x01): Uint8Array {
  const out = der.slice();
  out[index]! ^= mask;
  assert.notDeepEqual(out, der);
  return out;
}

/** Index of the `nth` (1-based) occurrence of `needle` in `haystack`, or -1. */
function indexOfBytes(haystack: Uint8Array, needle: Uint8Array, nth = 1): number {
  let at = -1;
  for (let i = 0; i < nth; i++) {
    at = Buffer.from(haystack).indexOf(Buffer.from(needle), at + 1);
    if (at < 0) return -1;
  }
  return at;
}

function nodeEd25519Key(raw: Uint8Array): KeyObject {
  return createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(raw).toString('base64url') },
    format: 'jwk',
  });
}

const hasOpenssl = spawnSync('openssl', ['version']).status === 0;
const NO_OPENSSL = hasOpenssl ? false : 'openssl binary not found on PATH: OpenSSL interop tests skipped';

function withTmp<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'hl-x509-'));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function openssl(dir: string, args: string[]): string {
  return execFileSync('openssl', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

const REQ_CONFIG = `[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
`;

/** A self-signed certificate made by OpenSSL with `newkey` (e.g. `ed25519`, `rsa:2048`). */
function opensslSelfSigned(dir: string, newkey: string[], subj: string): Uint8Array {
  writeFileSync(join(dir, 'req.cnf'), REQ_CONFIG);
  openssl(
    dir,
    ['req', '-x509', '-config', 'req.cnf', '-extensions', 'v3_ca', ...newkey, '-nodes'].concat([
      '-keyout',
      'self.key',
      '-out',
      'self.pem',
      '-subj',
      subj,
      '-days',
      '3650',
    ]),
  );
  return fromPem(readFileSync(join(dir, 'self.pem'), 'utf8'));
}

// ---------------------------------------------------------------------------------------------
// Round trip
// ---------------------------------------------------------------------------------------------

test('round trip: CA and practitioner certificate parse back to exactly what was set', () => {
  assert.deepEqual(ca.subject, { commonName: 'st-mary CA', organization: 'st-mary' });
  assert.deepEqual(ca.issuer, ca.subject);
  assert.equal(ca.isCa, true);
  assert.equal(ca.role, undefined);
  assert.deepEqual(ca.keyUsage, ['keyCertSign']);
  assert.deepEqual(ca.publicKey, publicKeyOf(CA_KEY));
  assert.equal(ca.serialHex, '01');
  assert.equal(ca.notBeforeMs, CA_FROM);
  assert.equal(ca.notAfterMs, CA_UNTIL);
  verifySelfSigned(ca, AT);

  assert.deepEqual(alice.subject, {
    commonName: 'dr-alice',
    organization: 'st-mary',
    organizationalUnit: 'practitioner',
  });
  assert.deepEqual(alice.issuer, ca.subject);
  assert.deepEqual(alice.issuerDer, ca.subjectDer);
  assert.equal(alice.role, 'practitioner');
  assert.equal(alice.isCa, false);
  assert.deepEqual(alice.keyUsage, ['digitalSignature']);
  assert.deepEqual({ ...alice.attributes }, ATTRS);
  assert.deepEqual(alice.publicKey, publicKeyOf(ALICE_KEY));
  assert.equal(alice.serialHex, '1001');
  assert.equal(alice.notBeforeMs, MEMBER_FROM);
  assert.equal(alice.notAfterMs, MEMBER_UNTIL);
  assert.deepEqual(alice.der, aliceDer);
  assert.equal(alice.fingerprint, createHash('sha256').update(aliceDer).digest('hex'));
  // tbs is the first element of the certificate and is what the CA signed (checked by node).
  assert.equal(indexOfBytes(aliceDer, alice.tbs), 4);
  assert.equal(nodeVerify(null, alice.tbs, nodeEd25519Key(ca.publicKey), alice.signature), true);
  verifyIssuedBy(alice, ca, AT);
  assert.ok(Object.isFrozen(alice) && Object.isFrozen(alice.attributes) && Object.isFrozen(alice.subject));
});

test('round trip: every role, no attributes, GeneralizedTime after 2049, serial normalisation', () => {
  for (const role of ROLES) {
    const p = parseCertificate(issue({ role, attributes: {} }));
    assert.equal(p.role, role);
    assert.deepEqual(p.attributes, {});
    verifyIssuedBy(p, ca, AT);
  }
  const longCaDer = makeCa('st-mary', CA_KEY, Date.UTC(2060, 0, 1));
  assert.ok(indexOfBytes(longCaDer, Buffer.from('20600101000000Z')) > 0, 'GeneralizedTime for 2060');
  assert.equal(parseCertificate(longCaDer).notAfterMs, Date.UTC(2060, 0, 1));
  // Leading zero octets are stripped; a set top bit gets a 0x00 sign octet (still ≤ 20 octets).
  assert.equal(parseCertificate(issue({ serial: '000042' })).serialHex, '42');
  const top = new Uint8Array(19).fill(0xff);
  assert.equal(parseCertificate(issue({ serial: top })).serialHex, 'ff'.repeat(19));
  expectCode(() => issue({ serial: new Uint8Array(20).fill(0xff) }), 'INVALID_ARGUMENT');
  expectCode(() => issue({ serial: '00' }), 'INVALID_ARGUMENT');
  // Ed25519 signing is deterministic, so issuance is too.
  assert.deepEqual(issue(), aliceDer);
});

test('issuance rejects bad arguments', () => {
  expectCode(() => issue({ role: 'surgeon' as Role }), 'INVALID_ARGUMENT');
  expectCode(() => issue({ memberId: '' }), 'INVALID_ARGUMENT');
  expectCode(() => issue({ memberId: 'dr\nalice' }), 'INVALID_ARGUMENT');
  expectCode(() => issue({ orgId: 'st-luke' }), 'INVALID_ARGUMENT');
  expectCode(() => issue({ caPrivateKey: ROGUE_CA_KEY }), 'INVALID_ARGUMENT');
  expectCode(() => issue({ caCertificate: aliceDer }), 'INVALID_ARGUMENT');
  expectCode(() => issue({ publicKey: new Uint8Array(31) }), 'INVALID_ARGUMENT');
  expectCode(() => issue({ publicKey: Uint8Array.from([1, ...new Uint8Array(31)]) }), 'INVALID_ARGUMENT'); // identity point
  expectCode(() => issue({ notBeforeMs: MEMBER_FROM + 1 }), 'INVALID_ARGUMENT');
  expectCode(() => issue({ notAfterMs: MEMBER_FROM - 1000 }), 'INVALID_ARGUMENT');
  expectCode(() => issue({ attributes: { licence: 1 as unknown as string } }), 'INVALID_ARGUMENT');
  expectCode(
    () =>
      createCaCertificate({
        orgId: 'x',
        privateKey: CA_KEY,
        serial: '01',
        notBeforeMs: 0,
        notAfterMs: -1000,
      }),
    'INVALID_ARGUMENT',
  );
});

// ---------------------------------------------------------------------------------------------
// Interop with independent implementations (node's OpenSSL bindings and the openssl CLI)
// ---------------------------------------------------------------------------------------------

test('interop: node crypto.X509Certificate parses our DER and verifies the signature', () => {
  const x = new X509Certificate(Buffer.from(aliceDer));
  const xca = new X509Certificate(Buffer.from(caDer));
  assert.equal(x.subject, 'O=st-mary\nOU=practitioner\nCN=dr-alice');
  assert.equal(x.issuer, 'O=st-mary\nCN=st-mary CA');
  assert.equal(xca.subject, 'O=st-mary\nCN=st-mary CA');
  assert.equal(x.serialNumber.toLowerCase(), alice.serialHex);
  assert.equal(Date.parse(x.validFrom), MEMBER_FROM);
  assert.equal(Date.parse(x.validTo), MEMBER_UNTIL);
  assert.equal(x.ca, false);
  assert.equal(xca.ca, true);
  assert.equal(x.fingerprint256.replace(/:/g, '').toLowerCase(), alice.fingerprint);
  assert.equal(x.verify(nodeEd25519Key(ca.publicKey)), true);
  assert.equal(xca.verify(nodeEd25519Key(ca.publicKey)), true);
  assert.equal(x.checkIssued(xca), true);
  // Negative control: node rejects the same certificate with one signature bit flipped.
  const bad = new X509Certificate(Buffer.from(flipBit(aliceDer, aliceDer.length - 1)));
  assert.equal(bad.verify(nodeEd25519Key(ca.publicKey)), false);
  // PEM from node round-trips through fromPem.
  assert.deepEqual(fromPem(x.toString()), aliceDer);
});

test('interop: `openssl verify -x509_strict` accepts our chain', { skip: NO_OPENSSL }, () => {
  withTmp((dir) => {
    writeFileSync(join(dir, 'ca.pem'), toPem(caDer));
    writeFileSync(join(dir, 'alice.pem'), toPem(aliceDer));
    writeFileSync(join(dir, 'bad.pem'), toPem(flipBit(aliceDer, aliceDer.length - 1)));
    const at = String(AT / 1000);
    const out = openssl(dir, ['verify', '-x509_strict', '-attime', at, '-CAfile', 'ca.pem', 'alice.pem']);
    assert.match(out, /alice\.pem: OK/);
    const r = spawnSync(
      'openssl',
      ['verify', '-x509_strict', '-attime', at, '-CAfile', 'ca.pem', 'bad.pem'],
      {
        cwd: dir,
      },
    );
    assert.notEqual(r.status, 0, 'openssl must reject a flipped signature bit');
  });
});

test(
  'interop: an OpenSSL-generated CA and leaf (with OU and attributes) parse and verify',
  { skip: NO_OPENSSL },
  () => {
    withTmp((dir) => {
      const caFromOpenssl = parseCertificate(
        opensslSelfSigned(dir, ['-newkey', 'ed25519'], '/CN=st-luke CA/O=st-luke'),
      );
      const attrDer = Buffer.from(utf8StringDer('{"licence":"RN-777","ward":"icu"}')).toString('hex');
      writeFileSync(
        join(dir, 'leaf.cnf'),
        `[v3_leaf]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
${ATTRIBUTES_EXTENSION_OID} = DER:${attrDer}
`,
      );
      openssl(dir, ['genpkey', '-algorithm', 'ed25519', '-out', 'leaf.key']);
      openssl(
        dir,
        [
          'req',
          '-new',
          '-config',
          'req.cnf',
          '-key',
          'leaf.key',
          '-subj',
          '/O=st-luke/OU=dispenser/CN=bob',
        ].concat(['-out', 'leaf.csr']),
      );
      openssl(
        dir,
        [
          'x509',
          '-req',
          '-in',
          'leaf.csr',
          '-CA',
          'self.pem',
          '-CAkey',
          'self.key',
          '-set_serial',
          '0x1234abcd',
        ].concat(['-days', '30', '-extfile', 'leaf.cnf', '-extensions', 'v3_leaf', '-out', 'leaf.pem']),
      );
      const leafDer = fromPem(readFileSync(join(dir, 'leaf.pem'), 'utf8'));
      const leaf = parseCertificate(leafDer);
      const spki = execFileSync('openssl', ['pkey', '-in', 'leaf.key', '-pubout', '-outform', 'DER'], {
        cwd: dir,
      });

      assert.deepEqual(caFromOpenssl.subject, { commonName: 'st-luke CA', organization: 'st-luke' });
      assert.equal(caFromOpenssl.isCa, true);
      assert.deepEqual(leaf.subject, {
        commonName: 'bob',
        organization: 'st-luke',
        organizationalUnit: 'dispenser',
      });
      assert.equal(leaf.role, 'dispenser');
      assert.equal(leaf.serialHex, '1234abcd');
      assert.deepEqual({ ...leaf.attributes }, { licence: 'RN-777', ward: 'icu' });
      assert.deepEqual(leaf.publicKey, new Uint8Array(spki.subarray(spki.length - 32)));
      assert.equal(leaf.notAfterMs - leaf.notBeforeMs, 30 * 86_400_000);
      const at = Math.max(leaf.notBeforeMs, caFromOpenssl.notBeforeMs);
      verifySelfSigned(caFromOpenssl, at);
      verifyIssuedBy(leaf, caFromOpenssl, at);
      expectCode(() => verifyIssuedBy(leaf, ca, at), 'ISSUER_MISMATCH');

      // An OpenSSL leaf with an unknown critical extension is refused (RFC 5280 §4.2).
      writeFileSync(
        join(dir, 'crit.cnf'),
        '[v3_leaf]\nbasicConstraints = critical,CA:FALSE\n1.2.3.4 = critical,DER:0500\n',
      );
      openssl(
        dir,
        [
          'x509',
          '-req',
          '-in',
          'leaf.csr',
          '-CA',
          'self.pem',
          '-CAkey',
          'self.key',
          '-set_serial',
          '7',
        ].concat(['-days', '30', '-extfile', 'crit.cnf', '-extensions', 'v3_leaf', '-out', 'crit.pem']),
      );
      expectCode(
        () => parseCertificate(fromPem(readFileSync(join(dir, 'crit.pem'), 'utf8'))),
        'UNKNOWN_CRITICAL_EXTENSION',
      );
    });
  },
);

test('broken: RSA, ECDSA and Ed448 certificates made by OpenSSL are rejected', { skip: NO_OPENSSL }, () => {
  withTmp((dir) => {
    const subj = '/CN=st-mary CA/O=st-mary';
    expectCode(
      () => parseCertificate(opensslSelfSigned(dir, ['-newkey', 'rsa:2048'], subj)),
      'UNSUPPORTED_ALGORITHM',
    );
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];
    expectCode(() => parseCertificate(opensslSelfSigned(dir, ec, subj)), 'UNSUPPORTED_ALGORITHM');
    expectCode(
      () => parseCertificate(opensslSelfSigned(dir, ['-newkey', 'ed448'], subj)),
      'UNSUPPORTED_ALGORITHM',
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Broken variants: signatures, issuers, roles, time
// ---------------------------------------------------------------------------------------------

test('control: the re-signing helper alone yields a valid certificate', () => {
  verifyIssuedBy(parseCertificate(resign(aliceDer, () => {})), ca, AT);
});

test('broken: signed by another CA with the same name', () => {
  const rogueCaDer = makeCa('st-mary', ROGUE_CA_KEY);
  const forged = issue({ caPrivateKey: ROGUE_CA_KEY, caCertificate: rogueCaDer });
  const parsed = parseCertificate(forged);
  assert.deepEqual(parsed.issuerDer, ca.subjectDer); // names match; only the key differs
  verifyIssuedBy(parsed, parseCertificate(rogueCaDer), AT);
  expectCode(() => verifyIssuedBy(parsed, ca, AT), 'BAD_SIGNATURE');
});

test('broken: issued by another organization CA', () => {
  const otherCaDer = makeCa('st-luke', OTHER_ORG_CA_KEY);
  const bob = issueMemberCertificate({
    orgId: 'st-luke',
    caPrivateKey: OTHER_ORG_CA_KEY,
    caCertificate: otherCaDer,
    memberId: 'bob',
    role: 'patient',
    publicKey: publicKeyOf(seed(9)),
    serial: '02',
    notBeforeMs: MEMBER_FROM,
    notAfterMs: MEMBER_UNTIL,
  });
  expectCode(() => verifyIssuedBy(parseCertificate(bob), ca, AT), 'ISSUER_MISMATCH');
  // A CA that certifies a member of a different organization (O) is refused.
  const poached = resign(aliceDer, (tbs) => {
    tbs.subject = subjectName([
      [O, 'st-luke'],
      [OU, 'practitioner'],
      [CN, 'dr-alice'],
    ]);
  });
  expectCode(() => verifyIssuedBy(parseCertificate(poached), ca, AT), 'ORG_MISMATCH');
});

test('broken: one flipped bit in the TBSCertificate', () => {
  const cnAt = indexOfBytes(aliceDer, Buffer.from('dr-alice')) + 7; // 'e' → 'd': still a valid name
  const tampered = parseCertificate(flipBit(aliceDer, cnAt));
  assert.equal(tampered.subject.commonName, 'dr-alicd');
  expectCode(() => verifyIssuedBy(tampered, ca, AT), 'BAD_SIGNATURE');
  const licenceAt = indexOfBytes(aliceDer, Buffer.from('MD-12345')) + 7; // '5' → '4'
  const attrTampered = parseCertificate(flipBit(aliceDer, licenceAt));
  assert.equal(attrTampered.attributes['licence'], 'MD-12344');
  expectCode(() => verifyIssuedBy(attrTampered, ca, AT), 'BAD_SIGNATURE');
  const caTampered = parseCertificate(flipBit(caDer, indexOfBytes(caDer, Buffer.from('350101000000Z')) + 1));
  assert.equal(caTampered.notAfterMs, Date.UTC(2034, 0, 1)); // '5' → '4': a shorter, still valid notAfter
  expectCode(() => verifySelfSigned(caTampered, AT), 'BAD_SIGNATURE');
  // Flipping a bit in the CA's subject (but not its issuer) breaks self-issuance first.
  const subjectAt = indexOfBytes(caDer, Buffer.from('st-mary CA'), 2) + 9;
  expectCode(() => verifySelfSigned(parseCertificate(flipBit(caDer, subjectAt)), AT), 'ISSUER_MISMATCH');
});

test('broken: one flipped bit in the signature', () => {
  for (const [index, mask] of [
    [aliceDer.length - 1, 0x01],
    [aliceDer.length - 64, 0x80],
    [aliceDer.length - 1, 0x80], // pushes S above L: must not be accepted either (RFC 8032 §5.1.7)
  ] as const) {
    expectCode(
      () => verifyIssuedBy(parseCertificate(flipBit(aliceDer, index, mask)), ca, AT),
      'BAD_SIGNATURE',
    );
  }
});

test('broken: expired and not yet valid (validity is inclusive, RFC 5280 §4.1.2.5)', () => {
  verifyIssuedBy(alice, ca, MEMBER_FROM);
  verifyIssuedBy(alice, ca, MEMBER_UNTIL);
  expectCode(() => verifyIssuedBy(alice, ca, MEMBER_UNTIL + 1), 'EXPIRED');
  expectCode(() => verifyIssuedBy(alice, ca, MEMBER_FROM - 1), 'NOT_YET_VALID');
  const longLived = parseCertificate(issue({ notAfterMs: Date.UTC(2040, 0, 1) }));
  expectCode(() => verifyIssuedBy(longLived, ca, Date.UTC(2036, 0, 1)), 'CA_EXPIRED');
  const early = parseCertificate(issue({ notBeforeMs: Date.UTC(2024, 0, 1) }));
  expectCode(() => verifyIssuedBy(early, ca, Date.UTC(2024, 6, 1)), 'CA_NOT_YET_VALID');
  expectCode(() => verifySelfSigned(ca, CA_UNTIL + 1000), 'CA_EXPIRED');
  expectCode(() => verifySelfSigned(ca, CA_FROM - 1000), 'CA_NOT_YET_VALID');
  expectCode(() => verifyIssuedBy(alice, ca, Number.NaN), 'INVALID_ARGUMENT');
});

test('broken: CA-flag certificate used as a member, member used as a CA', () => {
  expectCode(() => verifyIssuedBy(ca, ca, AT), 'NOT_A_MEMBER');
  const caPractitioner = resign(aliceDer, (tbs) => {
    tbs.extensions = new Extensions(
      tbs.extensions!.filter((e) => e.extnID !== '2.5.29.19' && e.extnID !== '2.5.29.15'),
    );
    tbs.extensions!.push(ext('2.5.29.19', true, Uint8Array.from([0x30, 0x03, 0x01, 0x01, 0xff])));
    tbs.extensions!.push(ext('2.5.29.15', true, Uint8Array.from([0x03, 0x02, 0x02, 0x04])));
  });
  const parsed = parseCertificate(caPractitioner);
  assert.equal(parsed.isCa, true);
  expectCode(() => verifyIssuedBy(parsed, ca, AT), 'NOT_A_MEMBER');
  expectCode(() => verifyIssuedBy(alice, alice, AT), 'NOT_A_CA');
  expectCode(() => verifySelfSigned(alice, AT), 'NOT_A_CA');
  // A member whose keyUsage does not allow digitalSignature (keyAgreement only).
  const noSign = resign(aliceDer, (tbs) => {
    tbs.extensions = new Extensions(tbs.extensions!.filter((e) => e.extnID !== '2.5.29.15'));
    tbs.extensions!.push(ext('2.5.29.15', true, Uint8Array.from([0x03, 0x02, 0x03, 0x08])));
  });
  expectCode(() => verifyIssuedBy(parseCertificate(noSign), ca, AT), 'KEY_USAGE');
  // keyCertSign without cA=true is inconsistent (RFC 5280 §4.2.1.3).
  const certSignLeaf = resign(aliceDer, (tbs) => {
    tbs.extensions = new Extensions(tbs.extensions!.filter((e) => e.extnID !== '2.5.29.15'));
    tbs.extensions!.push(ext('2.5.29.15', true, Uint8Array.from([0x03, 0x02, 0x02, 0x84])));
  });
  expectCode(() => parseCertificate(certSignLeaf), 'BAD_EXTENSION');
  // A CA must mark basicConstraints critical (RFC 5280 §4.2.1.9).
  const softCa = resign(caDer, (tbs) => {
    for (const e of tbs.extensions!) if (e.extnID === '2.5.29.19') e.critical = false;
  });
  expectCode(() => parseCertificate(softCa), 'BAD_EXTENSION');
});

test('broken: wrong or missing OU role', () => {
  const surgeon = resign(aliceDer, (tbs) => {
    tbs.subject = subjectName([
      [O, 'st-mary'],
      [OU, 'surgeon'],
      [CN, 'dr-alice'],
    ]);
  });
  expectCode(() => parseCertificate(surgeon), 'BAD_ROLE');
  const noOu = resign(aliceDer, (tbs) => {
    tbs.subject = subjectName([
      [O, 'st-mary'],
      [CN, 'dr-alice'],
    ]);
  });
  expectCode(() => parseCertificate(noOu), 'BAD_ROLE');
  const caseVariant = resign(aliceDer, (tbs) => {
    tbs.subject = subjectName([
      [O, 'st-mary'],
      [OU, 'Practitioner'],
      [CN, 'dr-alice'],
    ]);
  });
  expectCode(() => parseCertificate(caseVariant), 'BAD_ROLE');
});

test('broken: subject names (missing, duplicate, multi-valued, wrong string type)', () => {
  const cases: [string, Name][] = [
    [
      'no CN',
      subjectName([
        [O, 'st-mary'],
        [OU, 'practitioner'],
      ]),
    ],
    [
      'no O',
      subjectName([
        [OU, 'practitioner'],
        [CN, 'dr-alice'],
      ]),
    ],
    [
      'two CNs',
      subjectName([
        [O, 'st-mary'],
        [OU, 'practitioner'],
        [CN, 'dr-alice'],
        [CN, 'dr-eve'],
      ]),
    ],
    [
      'empty CN',
      subjectName([
        [O, 'st-mary'],
        [OU, 'practitioner'],
        [CN, ''],
      ]),
    ],
    [
      'control char',
      subjectName([
        [O, 'st-mary'],
        [OU, 'practitioner'],
        [CN, 'dr-alice\u0000'],
      ]),
    ],
    [
      'multi-valued RDN',
      new Name([
        rdn(O, utf8Value('st-mary')),
        new RelativeDistinguishedName([
          new AttributeTypeAndValue({ type: OU, value: utf8Value('practitioner') }),
          new AttributeTypeAndValue({ type: CN, value: utf8Value('dr-alice') }),
        ]),
      ]),
    ],
    [
      'BMPString CN',
      new Name([
        rdn(O, utf8Value('st-mary')),
        rdn(OU, utf8Value('practitioner')),
        rdn(CN, new AttributeValue({ bmpString: 'dr-alice' })),
      ]),
    ],
  ];
  for (const [label, name] of cases) {
    const der = resign(aliceDer, (tbs) => {
      tbs.subject = name;
    });
    assert.throws(
      () => parseCertificate(der),
      (e: unknown) => e instanceof CertificateError && e.code === 'BAD_NAME',
      label,
    );
  }
  // PrintableString names (common in other PKIs) are accepted.
  const printable = resign(aliceDer, (tbs) => {
    tbs.subject = new Name([
      rdn(O, new AttributeValue({ printableString: 'st-mary' })),
      rdn(OU, utf8Value('practitioner')),
      rdn(CN, new AttributeValue({ printableString: 'dr-alice' })),
    ]);
  });
  assert.equal(parseCertificate(printable).subject.commonName, 'dr-alice');
});

// ---------------------------------------------------------------------------------------------
// Broken variants: encoding, algorithms, extensions
// ---------------------------------------------------------------------------------------------

test('broken: trailing byte, truncation, garbage, oversize', () => {
  expectCode(() => parseCertificate(Uint8Array.from([...aliceDer, 0])), 'TRAILING_BYTES');
  expectCode(() => parseCertificate(aliceDer.subarray(0, aliceDer.length - 1)), 'MALFORMED');
  expectCode(() => parseCertificate(new Uint8Array(0)), 'MALFORMED');
  expectCode(() => parseCertificate(Uint8Array.from([0x04, 0x01, 0x00])), 'MALFORMED');
  expectCode(() => parseCertificate(Uint8Array.from([0x30, 0x03, 0x02, 0x01, 0x01])), 'MALFORMED');
  expectCode(() => parseCertificate(new Uint8Array(MAX_CERTIFICATE_BYTES + 1)), 'TOO_LARGE');
});

test('broken: non-canonical DER (BER that decodes to the same certificate)', () => {
  // 1. Long-form length where the short form is required, on the signature BIT STRING.
  const sigAt = aliceDer.length - 67;
  assert.deepEqual([...aliceDer.subarray(sigAt, sigAt + 3)], [0x03, 0x41, 0x00]);
  assert.deepEqual([...aliceDer.subarray(0, 2)], [0x30, 0x82]);
  const longForm = Uint8Array.from([
    ...aliceDer.subarray(0, sigAt + 1),
    0x81,
    ...aliceDer.subarray(sigAt + 1),
  ]);
  const outerLength = ((aliceDer[2]! << 8) | aliceDer[3]!) + 1;
  longForm[2] = outerLength >> 8;
  longForm[3] = outerLength & 0xff;
  expectCode(() => parseCertificate(longForm), 'NOT_DER');
  // 2. Same, on the outer SEQUENCE (a leading zero length octet).
  expectCode(() => parseCertificate(Uint8Array.from([0x30, 0x83, 0x00, ...aliceDer.subarray(2)])), 'NOT_DER');
  // 3. Indefinite length.
  expectCode(() => parseCertificate(Uint8Array.from([0x30, 0x80, ...aliceDer.subarray(4), 0, 0])), 'NOT_DER');
  // 4. BOOLEAN TRUE as 0x01 instead of 0xFF (the critical flag of basicConstraints).
  const boolAt = indexOfBytes(aliceDer, Uint8Array.from([0x01, 0x01, 0xff]));
  assert.ok(boolAt > 0);
  expectCode(() => parseCertificate(flipBit(aliceDer, boolAt + 2, 0xfe)), 'NOT_DER');
  // 5. Non-minimal serial INTEGER (leading 0x00 before a positive octet), validly signed.
  const paddedSerial = resign(aliceDer, (tbs) => {
    tbs.serialNumber = Uint8Array.from([0x00, 0x10, 0x01]).buffer;
  });
  expectCode(() => parseCertificate(paddedSerial), 'NOT_DER');
  // 6. keyUsage with trailing zero bits (X.690 §11.2.2), validly signed.
  const kuPadded = resign(aliceDer, (tbs) => {
    for (const e of tbs.extensions!)
      if (e.extnID === '2.5.29.15') e.extnValue = new OctetString(Uint8Array.from([0x03, 0x02, 0x00, 0x80]));
  });
  expectCode(() => parseCertificate(kuPadded), 'NOT_DER');
});

test('broken: serial numbers (RFC 5280 §4.1.2.2)', () => {
  const withSerial = (bytes: number[]) =>
    resign(aliceDer, (tbs) => {
      tbs.serialNumber = Uint8Array.from(bytes).buffer;
    });
  expectCode(() => parseCertificate(withSerial([0x00])), 'BAD_SERIAL');
  expectCode(() => parseCertificate(withSerial([0x80, 0x01])), 'BAD_SERIAL');
  expectCode(() => parseCertificate(withSerial([0x01, ...new Array<number>(20).fill(7)])), 'BAD_SERIAL');
  assert.equal(
    parseCertificate(withSerial([0x7f, ...new Array<number>(19).fill(7)])).serialHex,
    '7f' + '07'.repeat(19),
  );
});

test('broken: algorithms, parameters, keys, signature length', () => {
  const nullParams = resign(aliceDer, (tbs, cert) => {
    tbs.signature = new AlgorithmIdentifier({ algorithm: '1.3.101.112', parameters: null });
    cert.signatureAlgorithm = new AlgorithmIdentifier({ algorithm: '1.3.101.112', parameters: null });
  });
  expectCode(() => parseCertificate(nullParams), 'ALGORITHM_PARAMETERS');
  const spkiParams = resign(aliceDer, (tbs) => {
    tbs.subjectPublicKeyInfo.algorithm = new AlgorithmIdentifier({
      algorithm: '1.3.101.112',
      parameters: null,
    });
  });
  expectCode(() => parseCertificate(spkiParams), 'ALGORITHM_PARAMETERS');
  const ed448Label = resign(aliceDer, (tbs, cert) => {
    tbs.signature = new AlgorithmIdentifier({ algorithm: '1.3.101.113' });
    cert.signatureAlgorithm = new AlgorithmIdentifier({ algorithm: '1.3.101.113' });
  });
  expectCode(() => parseCertificate(ed448Label), 'UNSUPPORTED_ALGORITHM');
  const mismatched = resign(aliceDer, (_tbs, cert) => {
    cert.signatureAlgorithm = new AlgorithmIdentifier({ algorithm: '1.2.840.10045.4.3.2' });
  });
  expectCode(() => parseCertificate(mismatched), 'UNSUPPORTED_ALGORITHM');
  const shortKey = resign(aliceDer, (tbs) => {
    tbs.subjectPublicKeyInfo.subjectPublicKey = new Uint8Array(31).fill(9).buffer;
  });
  expectCode(() => parseCertificate(shortKey), 'BAD_KEY');
  const identityKey = resign(aliceDer, (tbs) => {
    tbs.subjectPublicKeyInfo.subjectPublicKey = Uint8Array.from([1, ...new Uint8Array(31)]).buffer;
  });
  expectCode(() => parseCertificate(identityKey), 'BAD_KEY');
  const cert = AsnParser.parse(aliceDer, Certificate);
  cert.signatureValue = new Uint8Array(63).buffer;
  expectCode(() => parseCertificate(new Uint8Array(AsnSerializer.serialize(cert))), 'BAD_SIGNATURE_ENCODING');
});

test('broken: extensions (unknown critical, duplicate) and validity encoding', () => {
  const withExt = (critical: boolean) =>
    resign(aliceDer, (tbs) => {
      tbs.extensions!.push(ext('1.2.3.4', critical, Uint8Array.from([0x05, 0x00])));
    });
  expectCode(() => parseCertificate(withExt(true)), 'UNKNOWN_CRITICAL_EXTENSION');
  verifyIssuedBy(parseCertificate(withExt(false)), ca, AT); // unknown non-critical: ignored
  const duplicate = resign(aliceDer, (tbs) => {
    tbs.extensions!.push(tbs.extensions![1]!);
  });
  expectCode(() => parseCertificate(duplicate), 'DUPLICATE_EXTENSION');
  const reversed = resign(aliceDer, (tbs) => {
    tbs.validity.notBefore = new Time(new Date(MEMBER_UNTIL));
    tbs.validity.notAfter = new Time(new Date(MEMBER_FROM));
  });
  expectCode(() => parseCertificate(reversed), 'BAD_VALIDITY');
  const generalizedTooEarly = resign(aliceDer, (tbs) => {
    tbs.validity.notAfter = new Time({ generalTime: new Date(MEMBER_UNTIL) });
  });
  expectCode(() => parseCertificate(generalizedTooEarly), 'BAD_VALIDITY');
  const fractional = resign(aliceDer, (tbs) => {
    tbs.validity.notAfter = new Time({ generalTime: new Date(Date.UTC(2051, 0, 1) + 500) });
  });
  expectCode(() => parseCertificate(fractional), 'BAD_VALIDITY');
});

test('broken: malformed attribute JSON', () => {
  const bad: [string, Uint8Array][] = [
    ['unsorted keys', utf8StringDer('{"specialty":"x","licence":"y"}')],
    ['whitespace', utf8StringDer('{"licence": "y"}')],
    ['duplicate key', utf8StringDer('{"a":"1","a":"2"}')],
    ['number value', utf8StringDer('{"licence":1}')],
    ['nested value', utf8StringDer('{"licence":{"n":"1"}}')],
    ['array', utf8StringDer('["licence"]')],
    ['not JSON', utf8StringDer('licence=MD-1')],
    ['empty key', utf8StringDer('{"":"x"}')],
    ['OCTET STRING not UTF8String', Uint8Array.from([0x04, 0x02, 0x7b, 0x7d])],
    ['invalid UTF-8', Uint8Array.from([0x0c, 0x04, 0x7b, 0xff, 0xfe, 0x7d])],
    ['trailing bytes', Uint8Array.from([...utf8StringDer('{}'), 0x00])],
  ];
  for (const [label, value] of bad) {
    assert.throws(
      () => parseCertificate(withAttributeValue(value)),
      (e: unknown) => e instanceof CertificateError && e.code === 'BAD_ATTRIBUTES',
      label,
    );
  }
  assert.deepEqual(
    { ...parseCertificate(withAttributeValue(utf8StringDer('{"a":"1","b":"é"}'))).attributes },
    { a: '1', b: 'é' },
  );
});

test('parseCertificate copies its input and never reads the caller buffer again', () => {
  const buf = aliceDer.slice();
  const parsed = parseCertificate(buf);
  buf.fill(0);
  assert.deepEqual(parsed.der, aliceDer);
  verifyIssuedBy(parsed, ca, AT);
});

// ---------------------------------------------------------------------------------------------
// PEM
// ---------------------------------------------------------------------------------------------

test('PEM: round trip, 64-column lines, tolerant of whitespace between lines', () => {
  const pem = toPem(aliceDer);
  assert.ok(pem.startsWith('-----BEGIN CERTIFICATE-----\n') && pem.endsWith('-----END CERTIFICATE-----\n'));
  const lines = pem.trim().split('\n').slice(1, -1);
  assert.ok(lines.slice(0, -1).every((l) => l.length === 64) && lines.at(-1)!.length <= 64);
  assert.deepEqual(fromPem(pem), aliceDer);
  assert.deepEqual(fromPem(`\r\n  ${pem.replace(/\n/g, '\r\n  ')}\n\n`), aliceDer);
  assert.deepEqual(fromPem(toPem(aliceDer, 'PUBLIC KEY'), 'PUBLIC KEY'), aliceDer);
  // Same bytes as node's own PEM encoder.
  assert.equal(pem, new X509Certificate(Buffer.from(aliceDer)).toString());
});

test('broken: PEM with two blocks, wrong label, stray text, bad base64', () => {
  const pem = toPem(aliceDer);
  const body = pem.split('\n').slice(1, -2).join('\n');
  const bad: [string, string][] = [
    ['two blocks', pem + pem],
    ['two blocks, different labels', pem + toPem(caDer, 'X509 CRL')],
    ['wrong label', toPem(aliceDer, 'PRIVATE KEY')],
    ['mismatched END label', pem.replace('END CERTIFICATE', 'END X509 CRL')],
    ['text before', `subject=dr-alice\n${pem}`],
    ['text after', `${pem}trailer`],
    ['RFC 1421 header', pem.replace('-----\n', '-----\nProc-Type: 4,ENCRYPTED\n\n')],
    ['base64url alphabet', pem.replace(/\//g, '_').replace(/\+/g, '-')],
    ['missing padding', `-----BEGIN CERTIFICATE-----\nAAE\n-----END CERTIFICATE-----\n`],
    ['non-canonical trailing bits', `-----BEGIN CERTIFICATE-----\nAAF=\n-----END CERTIFICATE-----\n`],
    ['padding in the middle', `-----BEGIN CERTIFICATE-----\nAA==AAAA\n-----END CERTIFICATE-----\n`],
    ['empty', '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n'],
    ['no armour', body],
    ['not a string', 42 as unknown as string],
  ];
  for (const [label, input] of bad) {
    assert.throws(
      () => fromPem(input),
      (e: unknown) => e instanceof CertificateError && e.code === 'BAD_PEM',
      label,
    );
  }
});

test('error codes: every code has a one-line description', () => {
  for (const [code, description] of Object.entries(CertificateErrorCodes)) {
    assert.match(code, /^[A-Z_]+$/);
    assert.ok(description.length > 10 && !description.includes('\n'), code);
  }
  const e = new CertificateError('EXPIRED');
  assert.equal(e.code, 'EXPIRED');
  assert.equal(e.name, 'CertificateError');
  assert.ok(e instanceof Error);
});

// Keep the ParsedCertificate type exercised so a structural change breaks compilation here.
const _typed: ParsedCertificate = alice;
void _typed;

test('serials with leading zero bytes, given as a Node Buffer, encode minimally (regression)', () => {
  const ca = generateKeyPair();
  for (const hex of ['00240a5f3c20b55ed4d7807e9e392bd7', '0000ff', '00007f', '80']) {
    const der = createCaCertificate({
      orgId: 'st-mary',
      privateKey: ca.privateKey,
      serial: Buffer.from(hex, 'hex'),
      notBeforeMs: 1_700_000_000_000,
      notAfterMs: 1_800_000_000_000,
    });
    assert.equal(parseCertificate(der).serialHex, hex.replace(/^(00)+/, ''));
  }
});
