/**
 * The shared Wycheproof vectors, in full, against the primitives HealthLedger actually uses:
 * - AES-GCM (NIST SP 800-38D): WebCrypto (record envelopes, protocol/envelope.ts) and node:crypto
 *   (the node's blob store, node/records/blob-store.ts);
 * - X25519 (RFC 7748): WebCrypto through @hpke/core's own key import (what DHKEM(X25519) in
 *   RFC 9180 §4.1 runs on), cross-checked with @noble/curves;
 * - HKDF-SHA256 (RFC 5869): WebCrypto (what @hpke/core's HkdfSha256 uses), node:crypto (blob
 *   store) and @noble/hashes.
 * Then end-to-end checks of sealRecord/openRecord/rewrapFor against tampering.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createCipheriv, createDecipheriv, hkdfSync } from 'node:crypto';
import type { CipherGCMTypes } from 'node:crypto';
import { Aes128Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from '@hpke/core';
import { x25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { testdata } from '../test-support/paths.js';
import { fromBase64Url, fromHex, toBase64Url, toHex, utf8 } from './bytes.js';
import {
  EnvelopeError,
  generateEncryptionKeyPair,
  openRecord,
  rewrapFor,
  sealRecord,
  unwrapDataKey,
  type EnvelopeErrorCode,
  type SealedRecord,
} from './envelope.js';

type Result = 'valid' | 'invalid' | 'acceptable';
interface WycheproofFile<G> {
  algorithm: string;
  numberOfTests: number;
  testGroups: G[];
}
interface AeadVector {
  tcId: number;
  flags: string[];
  key: string;
  iv: string;
  aad: string;
  msg: string;
  ct: string;
  tag: string;
  result: Result;
}
interface XdhVector {
  tcId: number;
  flags: string[];
  public: string;
  private: string;
  shared: string;
  result: Result;
}
interface HkdfVector {
  tcId: number;
  flags: string[];
  ikm: string;
  salt: string;
  info: string;
  size: number;
  okm: string;
  result: Result;
}

function load<G>(name: string): WycheproofFile<G> {
  return JSON.parse(readFileSync(testdata('wycheproof', name), 'utf8')) as WycheproofFile<G>;
}

const aesGcm = load<{ keySize: number; ivSize: number; tagSize: number; tests: AeadVector[] }>(
  'aes_gcm_test.json',
);
const xdh = load<{ curve: string; tests: XdhVector[] }>('x25519_test.json');
const hkdfFile = load<{ keySize: number; tests: HkdfVector[] }>('hkdf_sha256_test.json');

const subtle = globalThis.crypto.subtle;
const ab = (b: Uint8Array): Uint8Array<ArrayBuffer> => new Uint8Array(b);
const isZero = (hex: string): boolean => /^(00)+$/.test(hex);

async function settle<T>(p: Promise<T>): Promise<{ ok: true; value: T } | { ok: false }> {
  try {
    return { ok: true, value: await p };
  } catch {
    return { ok: false };
  }
}

// ---------------------------------------------------------------------------------------------
// AES-GCM
// ---------------------------------------------------------------------------------------------

/**
 * Node's WebCrypto AES-GCM takes IVs of 12..128 bytes only (measured on Node 20.20: shorter IVs
 * and the 257-byte IV are refused with OperationError); node:crypto takes 1..128 bytes. Both
 * support 128/192/256-bit keys and the file's only tag size, 128 bits. HealthLedger itself uses
 * 256-bit keys with 96-bit IVs only. A zero-length IV (flag ZeroLengthIv, result "invalid") is not
 * skipped: refusing it is the expected result.
 */
function aesSkipReason(ivBytes: number, min: number, max: number): string | undefined {
  if (ivBytes === 0) return undefined;
  if (ivBytes < min) return `IV shorter than ${min} bytes`;
  if (ivBytes > max) return `IV longer than ${max} bytes`;
  return undefined;
}

interface AesImpl {
  encrypt(v: AeadVector): Promise<Uint8Array>;
  decrypt(v: AeadVector): Promise<Uint8Array>;
}

const webCryptoGcm: AesImpl = {
  async encrypt(v) {
    const key = await subtle.importKey('raw', ab(fromHex(v.key)), 'AES-GCM', false, ['encrypt']);
    const params = {
      name: 'AES-GCM',
      iv: ab(fromHex(v.iv)),
      additionalData: ab(fromHex(v.aad)),
      tagLength: 128,
    };
    return new Uint8Array(await subtle.encrypt(params, key, ab(fromHex(v.msg))));
  },
  async decrypt(v) {
    const key = await subtle.importKey('raw', ab(fromHex(v.key)), 'AES-GCM', false, ['decrypt']);
    const params = {
      name: 'AES-GCM',
      iv: ab(fromHex(v.iv)),
      additionalData: ab(fromHex(v.aad)),
      tagLength: 128,
    };
    return new Uint8Array(await subtle.decrypt(params, key, ab(fromHex(v.ct + v.tag))));
  },
};

function gcmName(key: Uint8Array): CipherGCMTypes {
  const name = ({ 16: 'aes-128-gcm', 24: 'aes-192-gcm', 32: 'aes-256-gcm' } as const)[key.length];
  if (!name) throw new Error(`no AES-GCM for a ${key.length}-byte key`);
  return name;
}

const nodeGcm: AesImpl = {
  async encrypt(v) {
    const key = fromHex(v.key);
    const c = createCipheriv(gcmName(key), key, fromHex(v.iv), { authTagLength: 16 });
    c.setAAD(fromHex(v.aad));
    const out = Buffer.concat([c.update(fromHex(v.msg)), c.final(), c.getAuthTag()]);
    return new Uint8Array(out);
  },
  async decrypt(v) {
    const key = fromHex(v.key);
    const d = createDecipheriv(gcmName(key), key, fromHex(v.iv), { authTagLength: 16 });
    d.setAAD(fromHex(v.aad));
    d.setAuthTag(fromHex(v.tag));
    return new Uint8Array(Buffer.concat([d.update(fromHex(v.ct)), d.final()]));
  },
};

async function runAesGcm(
  impl: AesImpl,
  ivRange: [number, number],
): Promise<{ checked: number; skipped: Map<string, number>; failures: string[] }> {
  const failures: string[] = [];
  const skipped = new Map<string, number>();
  let checked = 0;
  for (const group of aesGcm.testGroups) {
    assert.equal(group.tagSize, 128, 'only 128-bit tags are expected in this file');
    for (const v of group.tests) {
      const name = `tcId ${v.tcId} (key ${group.keySize}, iv ${group.ivSize}, ${v.flags.join(',')})`;
      assert.notEqual(v.result, 'acceptable', `${name}: decide how to treat "acceptable"`);
      const reason = aesSkipReason(v.iv.length / 2, ...ivRange);
      const dec = await settle(impl.decrypt(v));
      if (reason !== undefined) {
        skipped.set(reason, (skipped.get(reason) ?? 0) + 1);
        // Not supported, but it must never yield a wrong plaintext.
        if (dec.ok && (v.result !== 'valid' || toHex(dec.value) !== v.msg))
          failures.push(`${name}: unsupported IV size accepted with a wrong result`);
        continue;
      }
      checked++;
      if (v.result === 'valid') {
        if (!dec.ok || toHex(dec.value) !== v.msg) failures.push(`${name}: decrypt failed`);
        const enc = await settle(impl.encrypt(v));
        if (!enc.ok || toHex(enc.value) !== v.ct + v.tag) failures.push(`${name}: encrypt differs`);
      } else if (dec.ok) {
        failures.push(`${name}: invalid vector decrypted`);
      }
    }
  }
  return { checked, skipped, failures };
}

test('Wycheproof AES-GCM: WebCrypto (envelopes) gives the expected result for every supported vector', async () => {
  const { checked, skipped, failures } = await runAesGcm(webCryptoGcm, [12, 128]);
  assert.deepEqual(failures, []);
  assert.deepEqual(Object.fromEntries(skipped), {
    'IV shorter than 12 bytes': 37, // ivSize 8..80 bits (SmallIv / Pseudorandom)
    'IV longer than 128 bytes': 3, // ivSize 2056 bits (LongIv)
  });
  assert.equal(checked, 276);
  assert.equal(checked + 40, aesGcm.numberOfTests);
});

test('Wycheproof AES-GCM: node:crypto (blob store) gives the expected result for every supported vector', async () => {
  const { checked, skipped, failures } = await runAesGcm(nodeGcm, [1, 128]);
  assert.deepEqual(failures, []);
  assert.deepEqual(Object.fromEntries(skipped), { 'IV longer than 128 bytes': 3 });
  assert.equal(checked, 313);
  assert.equal(checked + 3, aesGcm.numberOfTests);
});

// ---------------------------------------------------------------------------------------------
// X25519
// ---------------------------------------------------------------------------------------------

/**
 * Policy for "acceptable" X25519 vectors (RFC 7748): public keys on the twist and non-canonical
 * encodings (u ≥ p, or the top bit set, which §5 says to mask) are accepted and must give exactly
 * the vector's shared secret; an all-zero shared secret (low-order public key) is rejected, as
 * RFC 7748 §6.1 allows and RFC 9180 §7.1.4 requires for DHKEM. WebCrypto and noble both behave
 * this way, so an envelope sealed to a low-order key fails with BAD_KEY.
 */
function xdhExpectation(v: XdhVector): 'shared' | 'reject' {
  if (v.result === 'invalid') return 'reject';
  return isZero(v.shared) ? 'reject' : 'shared';
}

const kem = new DhkemX25519HkdfSha256();

async function hpkeX25519(privateKey: Uint8Array, publicKey: Uint8Array): Promise<Uint8Array> {
  // @hpke/core's X25519 primitive: keys imported by the KEM, then WebCrypto deriveBits.
  const sk = await kem.deserializePrivateKey(ab(privateKey));
  const pk = await kem.deserializePublicKey(ab(publicKey));
  return new Uint8Array(await subtle.deriveBits({ name: 'X25519', public: pk }, sk, 256));
}

test('Wycheproof X25519: WebCrypto via @hpke/core and @noble/curves agree with every vector', async () => {
  const failures: string[] = [];
  const tally = { valid: 0, acceptableComputed: 0, acceptableRejected: 0 };
  for (const group of xdh.testGroups) {
    assert.equal(group.curve, 'curve25519');
    for (const v of group.tests) {
      const name = `tcId ${v.tcId} (${v.result}, ${v.flags.join(',')})`;
      const want = xdhExpectation(v);
      if (v.result === 'valid') {
        assert.equal(want, 'shared', `${name}: a valid vector with an all-zero secret`);
        tally.valid++;
      } else if (v.result === 'acceptable') {
        if (want === 'shared') tally.acceptableComputed++;
        else tally.acceptableRejected++;
      } else {
        assert.fail(`${name}: the file has no invalid vectors; decide how to treat it`);
      }
      const priv = fromHex(v.private);
      const pub = fromHex(v.public);
      const web = await settle(hpkeX25519(priv, pub));
      let noble: { ok: true; value: Uint8Array } | { ok: false };
      try {
        noble = { ok: true, value: x25519.getSharedSecret(priv, pub) };
      } catch {
        noble = { ok: false };
      }
      for (const [impl, got] of [
        ['webcrypto', web],
        ['noble', noble],
      ] as const) {
        if (want === 'reject' && got.ok) failures.push(`${name}: ${impl} accepted an all-zero secret`);
        if (want === 'shared' && (!got.ok || toHex(got.value) !== v.shared))
          failures.push(`${name}: ${impl} ${got.ok ? 'computed a different secret' : 'rejected it'}`);
      }
    }
  }
  assert.deepEqual(failures, []);
  assert.deepEqual(tally, { valid: 264, acceptableComputed: 223, acceptableRejected: 31 });
  assert.equal(tally.valid + tally.acceptableComputed + tally.acceptableRejected, xdh.numberOfTests);
});

test('sealRecord refuses every low-order X25519 public key in the Wycheproof file (BAD_KEY)', async () => {
  const lowOrder = new Set<string>();
  for (const g of xdh.testGroups) for (const v of g.tests) if (isZero(v.shared)) lowOrder.add(v.public);
  assert.ok(lowOrder.size >= 10, `only ${lowOrder.size} distinct low-order keys`);
  for (const pub of lowOrder) {
    await assert.rejects(
      sealRecord(utf8('x'), [{ id: 'org1/custodian', publicKey: fromHex(pub) }], utf8('aad')),
      { name: 'EnvelopeError', code: 'BAD_KEY' },
      pub,
    );
  }
});

// ---------------------------------------------------------------------------------------------
// HKDF-SHA256
// ---------------------------------------------------------------------------------------------

const hkdfImpls: Record<string, (v: HkdfVector) => Promise<Uint8Array>> = {
  async webcrypto(v) {
    const key = await subtle.importKey('raw', ab(fromHex(v.ikm)), 'HKDF', false, ['deriveBits']);
    const params = { name: 'HKDF', hash: 'SHA-256', salt: ab(fromHex(v.salt)), info: ab(fromHex(v.info)) };
    return new Uint8Array(await subtle.deriveBits(params, key, v.size * 8));
  },
  async 'node:crypto'(v) {
    return new Uint8Array(hkdfSync('sha256', fromHex(v.ikm), fromHex(v.salt), fromHex(v.info), v.size));
  },
  async noble(v) {
    return hkdf(sha256, fromHex(v.ikm), fromHex(v.salt), fromHex(v.info), v.size);
  },
};

test('Wycheproof HKDF-SHA256: WebCrypto, node:crypto and @noble/hashes match every vector', async () => {
  const failures: string[] = [];
  let count = 0;
  const results = { valid: 0, invalid: 0 };
  for (const group of hkdfFile.testGroups) {
    for (const v of group.tests) {
      count++;
      assert.notEqual(v.result, 'acceptable', `tcId ${v.tcId}: decide how to treat "acceptable"`);
      results[v.result as 'valid' | 'invalid']++;
      for (const [impl, derive] of Object.entries(hkdfImpls)) {
        const got = await settle(derive(v));
        const name = `tcId ${v.tcId} (${v.flags.join(',')}) ${impl}`;
        if (v.result === 'valid' && (!got.ok || toHex(got.value) !== v.okm))
          failures.push(`${name}: wrong okm`);
        // Invalid = SizeTooLarge: L > 255·HashLen is refused (RFC 5869 §2.3).
        if (v.result === 'invalid' && got.ok) failures.push(`${name}: accepted`);
      }
    }
  }
  assert.deepEqual(failures, []);
  assert.deepEqual(results, { valid: 83, invalid: 3 });
  assert.equal(count, hkdfFile.numberOfTests);
});

// ---------------------------------------------------------------------------------------------
// RFC 9180 known answer: the same KEM and KDF classes the envelopes use
// ---------------------------------------------------------------------------------------------

test('RFC 9180 Appendix A.1.1 (DHKEM(X25519, HKDF-SHA256), base mode): @hpke/core reproduces it', async () => {
  // A.1 uses AES-128-GCM; the KEM and key schedule are the ones our AES-256-GCM suite runs.
  const suite = new CipherSuite({
    kem: new DhkemX25519HkdfSha256(),
    kdf: new HkdfSha256(),
    aead: new Aes128Gcm(),
  });
  const A1 = {
    info: '4f6465206f6e2061204772656369616e2055726e', // "Ode on a Grecian Urn"
    ikmE: '7268600d403fce431561aef583ee1613527cff655c1343f29812e66706df3234',
    pkEm: '37fda3567bdbd628e88668c3c8d7e97d1d1253b6d4ea6d44c150f741f1bf4431',
    ikmR: '6db9df30aa07dd42ee5e8181afdb977e538f5e1fec8a06223f33f7013e525037',
    skRm: '4612c550263fc8ad58375df3f557aac531d26850903e55a9f23f21d8534e8ac8',
    pkRm: '3948cfe0ad1ddb695d780e59077195da6c56506b027329794ab02bca80815c4d',
    pt: '4265617574792069732074727574682c20747275746820626561757479', // "Beauty is truth, truth beauty"
    aad0: '436f756e742d30', // "Count-0"
    ct0: 'f938558b5d72f1a23810b4be2ab4f84331acc02fc97babc53a52ae8218a355a96d8770ac83d07bea87e13c512a',
  };
  const r = await suite.kem.deriveKeyPair(ab(fromHex(A1.ikmR))); // RFC 9180 §7.1.3
  assert.equal(toHex(new Uint8Array(await suite.kem.serializePrivateKey(r.privateKey))), A1.skRm);
  assert.equal(toHex(new Uint8Array(await suite.kem.serializePublicKey(r.publicKey))), A1.pkRm);
  const sealed = await suite.seal(
    {
      recipientPublicKey: await suite.kem.deserializePublicKey(ab(fromHex(A1.pkRm))),
      info: ab(fromHex(A1.info)),
      ekm: ab(fromHex(A1.ikmE)), // test-only deterministic ephemeral key
    },
    ab(fromHex(A1.pt)),
    ab(fromHex(A1.aad0)),
  );
  assert.equal(toHex(new Uint8Array(sealed.enc)), A1.pkEm);
  assert.equal(toHex(new Uint8Array(sealed.ct)), A1.ct0);
  const opened = await suite.open(
    {
      recipientKey: await suite.kem.deserializePrivateKey(ab(fromHex(A1.skRm))),
      enc: ab(fromHex(A1.pkEm)),
      info: ab(fromHex(A1.info)),
    },
    ab(fromHex(A1.ct0)),
    ab(fromHex(A1.aad0)),
  );
  assert.equal(toHex(new Uint8Array(opened)), A1.pt);
});

// ---------------------------------------------------------------------------------------------
// Envelopes end to end
// ---------------------------------------------------------------------------------------------

const CUSTODIAN = 'org1/custodian';
const aadFor = (recordId: string, version = 1): Uint8Array => utf8(`${recordId}|${version}|pseudonym-7f3a`);

async function rejectsWith(p: Promise<unknown>, code: EnvelopeErrorCode, what: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof EnvelopeError, `${what}: not an EnvelopeError: ${String(e)}`);
    assert.equal(e.code, code, `${what}: ${e.message}`);
    return true;
  });
}

function flipBit(b64: string, byteIndex: number, bit: number): string {
  const bytes = fromBase64Url(b64);
  const i = byteIndex < 0 ? bytes.length + byteIndex : byteIndex;
  bytes[i]! ^= 1 << bit;
  return toBase64Url(bytes);
}

test('sealRecord/openRecord round-trip for several sizes and recipients', async () => {
  const a = await generateEncryptionKeyPair();
  const b = await generateEncryptionKeyPair();
  assert.equal(a.privateKey.length, 32);
  assert.equal(a.publicKey.length, 32);
  assert.equal(toHex(x25519.getPublicKey(a.privateKey)), toHex(a.publicKey), 'RFC 7748 public key');
  for (const size of [0, 1, 15, 16, 17, 2048, 100_000]) {
    const pt = globalThis.crypto.getRandomValues(new Uint8Array(Math.min(size, 65536)));
    const big = size > 65536 ? new Uint8Array(size).fill(7) : pt;
    const aad = aadFor(`rec-${size}`);
    const sealed = await sealRecord(
      big,
      [
        { id: CUSTODIAN, publicKey: a.publicKey },
        { id: 'org2/dr-bob', publicKey: b.publicKey },
      ],
      aad,
    );
    assert.equal(fromBase64Url(sealed.ciphertext).length, size + 16);
    const viaJson = JSON.parse(JSON.stringify(sealed)) as SealedRecord;
    assert.deepEqual(await openRecord(viaJson, CUSTODIAN, a.privateKey, aad), big);
    assert.deepEqual(await openRecord(viaJson, 'org2/dr-bob', b.privateKey, aad), big);
  }
});

test('openRecord: wrong private key, wrong aad or wrong recipient id → DECRYPT_FAILED / NO_KEY_FOR_RECIPIENT', async () => {
  const a = await generateEncryptionKeyPair();
  const b = await generateEncryptionKeyPair();
  const aad = aadFor('rec-1');
  const sealed = await sealRecord(
    utf8('{"resourceType":"Observation"}'),
    [{ id: CUSTODIAN, publicKey: a.publicKey }],
    aad,
  );
  await rejectsWith(openRecord(sealed, CUSTODIAN, b.privateKey, aad), 'DECRYPT_FAILED', 'wrong key');
  await rejectsWith(
    openRecord(sealed, CUSTODIAN, a.privateKey, aadFor('rec-1', 2)),
    'DECRYPT_FAILED',
    'wrong aad',
  );
  await rejectsWith(
    openRecord(sealed, CUSTODIAN, a.privateKey, new Uint8Array()),
    'DECRYPT_FAILED',
    'empty aad',
  );
  await rejectsWith(openRecord(sealed, 'org2/dr-bob', a.privateKey, aad), 'NO_KEY_FOR_RECIPIENT', 'other id');
  // An entry relabelled for another recipient id: the id is bound through HPKE info.
  const relabelled = { ...sealed, keys: [{ ...sealed.keys[0]!, recipient: 'org2/dr-bob' }] };
  await rejectsWith(openRecord(relabelled, 'org2/dr-bob', a.privateKey, aad), 'DECRYPT_FAILED', 'relabelled');
});

test('a flipped bit in nonce, ciphertext, tag, enc or wrapped → DECRYPT_FAILED', async () => {
  const a = await generateEncryptionKeyPair();
  const aad = aadFor('rec-flip');
  const pt = globalThis.crypto.getRandomValues(new Uint8Array(2048));
  const sealed = await sealRecord(pt, [{ id: CUSTODIAN, publicKey: a.publicKey }], aad);
  assert.deepEqual(await openRecord(sealed, CUSTODIAN, a.privateKey, aad), pt);
  const key = sealed.keys[0]!;
  const ctLen = fromBase64Url(sealed.ciphertext).length;
  const cases: [string, SealedRecord][] = [];
  for (const [byte, bit] of [
    [0, 0],
    [5, 3],
    [11, 7],
  ] as const)
    cases.push([`nonce[${byte}] bit ${bit}`, { ...sealed, nonce: flipBit(sealed.nonce, byte, bit) }]);
  for (const [byte, bit] of [
    [0, 0],
    [1000, 4],
    [ctLen - 17, 7],
  ] as const)
    cases.push([
      `ciphertext[${byte}] bit ${bit}`,
      { ...sealed, ciphertext: flipBit(sealed.ciphertext, byte, bit) },
    ]);
  for (const [byte, bit] of [
    [-16, 0],
    [-8, 5],
    [-1, 7],
  ] as const)
    cases.push([
      `tag[${16 + byte}] bit ${bit}`,
      { ...sealed, ciphertext: flipBit(sealed.ciphertext, byte, bit) },
    ]);
  // enc bit 255 is masked by X25519 itself (RFC 7748 §5) but still changes the KEM context.
  for (const [byte, bit] of [
    [0, 0],
    [16, 2],
    [31, 7],
    [31, 6],
  ] as const)
    cases.push([
      `enc[${byte}] bit ${bit}`,
      { ...sealed, keys: [{ ...key, enc: flipBit(key.enc, byte, bit) }] },
    ]);
  for (const [byte, bit] of [
    [0, 0],
    [31, 1],
    [47, 7],
  ] as const)
    cases.push([
      `wrapped[${byte}] bit ${bit}`,
      { ...sealed, keys: [{ ...key, wrapped: flipBit(key.wrapped, byte, bit) }] },
    ]);
  assert.equal(cases.length, 16);
  for (const [what, tampered] of cases)
    await rejectsWith(openRecord(tampered, CUSTODIAN, a.privateKey, aad), 'DECRYPT_FAILED', what);
});

test('rewrapFor releases a record to a new recipient, who can then open it', async () => {
  const custodian = await generateEncryptionKeyPair();
  const bob = await generateEncryptionKeyPair();
  const carol = await generateEncryptionKeyPair();
  const aad = aadFor('rec-rewrap');
  const pt = utf8('{"resourceType":"DiagnosticReport","id":"r1"}');
  const sealed = await sealRecord(pt, [{ id: CUSTODIAN, publicKey: custodian.publicKey }], aad);
  await rejectsWith(openRecord(sealed, 'org2/dr-bob', bob.privateKey, aad), 'NO_KEY_FOR_RECIPIENT', 'before');
  const released = await rewrapFor(
    sealed,
    CUSTODIAN,
    custodian.privateKey,
    { id: 'org2/dr-bob', publicKey: bob.publicKey },
    aad,
  );
  assert.equal(released.ciphertext, sealed.ciphertext, 'content is not re-encrypted');
  assert.equal(released.nonce, sealed.nonce);
  assert.deepEqual(
    released.keys.map((k) => k.recipient),
    [CUSTODIAN, 'org2/dr-bob'],
  );
  assert.equal(sealed.keys.length, 1, 'input not modified');
  assert.deepEqual(await openRecord(released, 'org2/dr-bob', bob.privateKey, aad), pt);
  assert.deepEqual(await openRecord(released, CUSTODIAN, custodian.privateKey, aad), pt);
  // Bob can pass it on too, and a replaced entry keeps its position.
  const again = await rewrapFor(
    released,
    'org2/dr-bob',
    bob.privateKey,
    { id: 'org2/dr-bob', publicKey: carol.publicKey },
    aad,
  );
  assert.deepEqual(
    again.keys.map((k) => k.recipient),
    [CUSTODIAN, 'org2/dr-bob'],
  );
  assert.deepEqual(await openRecord(again, 'org2/dr-bob', carol.privateKey, aad), pt);
  await rejectsWith(openRecord(again, 'org2/dr-bob', bob.privateKey, aad), 'DECRYPT_FAILED', 'old key');
  // Rewrapping with the wrong aad or key releases nothing.
  await rejectsWith(
    rewrapFor(
      sealed,
      CUSTODIAN,
      custodian.privateKey,
      { id: 'x', publicKey: bob.publicKey },
      aadFor('other'),
    ),
    'DECRYPT_FAILED',
    'rewrap wrong aad',
  );
  await rejectsWith(
    rewrapFor(sealed, CUSTODIAN, bob.privateKey, { id: 'x', publicKey: bob.publicKey }, aad),
    'DECRYPT_FAILED',
    'rewrap wrong key',
  );
});

test('openRecord rejects a keys entry copied from another record', async () => {
  const a = await generateEncryptionKeyPair();
  const aadA = aadFor('rec-A');
  const aadB = aadFor('rec-B');
  const recA = await sealRecord(utf8('record A'), [{ id: CUSTODIAN, publicKey: a.publicKey }], aadA);
  const recB = await sealRecord(utf8('record B'), [{ id: CUSTODIAN, publicKey: a.publicKey }], aadB);
  // B's wrapped key in A's envelope: bound to B's aad through the HPKE AAD.
  const spliced = { ...recA, keys: recB.keys };
  await rejectsWith(openRecord(spliced, CUSTODIAN, a.privateKey, aadA), 'DECRYPT_FAILED', 'B key, A aad');
  await rejectsWith(unwrapDataKey(spliced, CUSTODIAN, a.privateKey, aadA), 'DECRYPT_FAILED', 'unwrap, A aad');
  // ... and even under B's aad the data key does not fit A's content.
  await rejectsWith(openRecord(spliced, CUSTODIAN, a.privateKey, aadB), 'DECRYPT_FAILED', 'B key, B aad');
  // Same aad (two seals of the same record version): the other seal's data key fails on content.
  const recA2 = await sealRecord(
    utf8('record A, resealed'),
    [{ id: CUSTODIAN, publicKey: a.publicKey }],
    aadA,
  );
  const sameAad = { ...recA, keys: recA2.keys };
  await rejectsWith(openRecord(sameAad, CUSTODIAN, a.privateKey, aadA), 'DECRYPT_FAILED', 'same aad');
  // The gatekeeper never releases such a key: rewrapFor checks it against the content first.
  const other = await generateEncryptionKeyPair();
  await rejectsWith(
    rewrapFor(sameAad, CUSTODIAN, a.privateKey, { id: 'org2/dr-bob', publicKey: other.publicKey }, aadA),
    'DECRYPT_FAILED',
    'rewrap of a spliced key',
  );
  // Sanity: the originals still open.
  assert.deepEqual(await openRecord(recA, CUSTODIAN, a.privateKey, aadA), utf8('record A'));
  assert.deepEqual(await openRecord(recB, CUSTODIAN, a.privateKey, aadB), utf8('record B'));
});
