import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromBase64Url, toBase64Url, utf8 } from './bytes.js';
import {
  EnvelopeError,
  EnvelopeErrorCodes,
  MAX_RECIPIENT_ID_BYTES,
  RECORD_KEY_DOMAIN,
  forgetRecipient,
  generateEncryptionKeyPair,
  openRecord,
  parseSealedRecord,
  rewrapFor,
  sealRecord,
  unwrapDataKey,
  type EnvelopeErrorCode,
  type SealedRecord,
} from './envelope.js';

const ID = 'org1/custodian';
const aad = utf8('Observation/obs-1|3|pseudonym-9b1c');

async function rejectsWith(
  p: Promise<unknown> | (() => unknown),
  code: EnvelopeErrorCode,
  what: string = code,
): Promise<void> {
  const run = typeof p === 'function' ? async () => p() : p;
  await assert.rejects(run, (e: unknown) => {
    assert.ok(e instanceof EnvelopeError, `${what}: not an EnvelopeError: ${String(e)}`);
    assert.equal(e.code, code, `${what}: ${e.message}`);
    return true;
  });
}

async function fixture(): Promise<{ sealed: SealedRecord; privateKey: Uint8Array; publicKey: Uint8Array }> {
  const { privateKey, publicKey } = await generateEncryptionKeyPair();
  const sealed = await sealRecord(utf8('{"resourceType":"Patient"}'), [{ id: ID, publicKey }], aad);
  return { sealed, privateKey, publicKey };
}

test('error codes: one class, string codes, one-line documented meanings', () => {
  assert.deepEqual(Object.keys(EnvelopeErrorCodes).sort(), [
    'BAD_KEY',
    'BAD_RECIPIENT',
    'DECRYPT_FAILED',
    'MALFORMED_ENVELOPE',
    'NO_KEY_FOR_RECIPIENT',
  ]);
  for (const [code, meaning] of Object.entries(EnvelopeErrorCodes)) {
    assert.match(code, /^[A-Z_]+$/);
    assert.match(meaning, /^[A-Z].*\.$/, `${code}: one sentence`);
    assert.ok(!meaning.includes('\n') && !meaning.includes('|'), `${code}: must fit one table row`);
  }
  const e = new EnvelopeError('DECRYPT_FAILED');
  assert.ok(e instanceof Error);
  assert.equal(e.name, 'EnvelopeError');
  assert.equal(e.code, 'DECRYPT_FAILED');
  assert.equal(e.message, `DECRYPT_FAILED: ${EnvelopeErrorCodes.DECRYPT_FAILED}`);
  assert.equal(new EnvelopeError('BAD_KEY', 'detail').message, 'BAD_KEY: detail');
});

test('generateEncryptionKeyPair: fresh 32-byte X25519 keys', async () => {
  const a = await generateEncryptionKeyPair();
  const b = await generateEncryptionKeyPair();
  assert.equal(a.privateKey.length, 32);
  assert.equal(a.publicKey.length, 32);
  assert.notDeepEqual(a.privateKey, b.privateKey);
  assert.notDeepEqual(a.publicKey, b.publicKey);
});

test('sealRecord: JSON-friendly shape, fresh nonce and data key per record', async () => {
  const { privateKey, publicKey } = await generateEncryptionKeyPair();
  const pt = utf8('same plaintext');
  const s1 = await sealRecord(pt, [{ id: ID, publicKey }], aad);
  const s2 = await sealRecord(pt, [{ id: ID, publicKey }], aad);
  assert.deepEqual(Object.keys(s1), ['v', 'alg', 'nonce', 'ciphertext', 'keys']);
  assert.equal(s1.v, 1);
  assert.equal(s1.alg, 'A256GCM');
  assert.equal(fromBase64Url(s1.nonce).length, 12);
  assert.equal(fromBase64Url(s1.ciphertext).length, pt.length + 16);
  assert.equal(s1.keys.length, 1);
  assert.deepEqual(Object.keys(s1.keys[0]!), ['recipient', 'enc', 'wrapped']);
  assert.equal(s1.keys[0]!.recipient, ID);
  assert.equal(fromBase64Url(s1.keys[0]!.enc).length, 32);
  assert.equal(fromBase64Url(s1.keys[0]!.wrapped).length, 48);
  assert.deepEqual(JSON.parse(JSON.stringify(s1)), s1);
  assert.notEqual(s1.nonce, s2.nonce);
  assert.notEqual(s1.ciphertext, s2.ciphertext);
  assert.notEqual(s1.keys[0]!.enc, s2.keys[0]!.enc);
  // The two data keys differ: each unwraps to its own.
  const k1 = await unwrapDataKey(s1, ID, privateKey, aad);
  const k2 = await unwrapDataKey(s2, ID, privateKey, aad);
  assert.equal(k1.length, 32);
  assert.notDeepEqual(k1, k2);
  assert.equal(RECORD_KEY_DOMAIN, 'healthledger/v1/record-key');
});

test('unwrapDataKey gives the AES-256-GCM key of the content', async () => {
  const { sealed, privateKey } = await fixture();
  const dataKey = await unwrapDataKey(sealed, ID, privateKey, aad);
  const key = await globalThis.crypto.subtle.importKey('raw', new Uint8Array(dataKey), 'AES-GCM', false, [
    'decrypt',
  ]);
  const pt = await globalThis.crypto.subtle.decrypt(
    { name: 'AES-GCM', iv: new Uint8Array(fromBase64Url(sealed.nonce)), additionalData: new Uint8Array(aad) },
    key,
    new Uint8Array(fromBase64Url(sealed.ciphertext)),
  );
  assert.deepEqual(new Uint8Array(pt), utf8('{"resourceType":"Patient"}'));
});

test('sealRecord: BAD_RECIPIENT for an empty list, duplicate, empty, over-long or ill-formed id', async () => {
  const { publicKey } = await generateEncryptionKeyPair();
  await rejectsWith(sealRecord(utf8('x'), [], aad), 'BAD_RECIPIENT', 'no recipients');
  await rejectsWith(
    sealRecord(
      utf8('x'),
      [
        { id: ID, publicKey },
        { id: ID, publicKey },
      ],
      aad,
    ),
    'BAD_RECIPIENT',
    'duplicate',
  );
  await rejectsWith(sealRecord(utf8('x'), [{ id: '', publicKey }], aad), 'BAD_RECIPIENT', 'empty id');
  await rejectsWith(
    sealRecord(utf8('x'), [{ id: 'a'.repeat(MAX_RECIPIENT_ID_BYTES + 1), publicKey }], aad),
    'BAD_RECIPIENT',
    'long id',
  );
  await rejectsWith(
    sealRecord(utf8('x'), [{ id: 'org1/\ud800', publicKey }], aad),
    'BAD_RECIPIENT',
    'lone surrogate',
  );
  // The longest allowed id and non-ASCII ids work.
  for (const id of ['a'.repeat(MAX_RECIPIENT_ID_BYTES), 'org-é/dr-müller']) {
    const { privateKey, publicKey: pk } = await generateEncryptionKeyPair();
    const s = await sealRecord(utf8('ok'), [{ id, publicKey: pk }], aad);
    assert.deepEqual(await openRecord(s, id, privateKey, aad), utf8('ok'));
  }
});

test('BAD_KEY for keys of the wrong length', async () => {
  const { sealed, privateKey, publicKey } = await fixture();
  for (const n of [0, 31, 33, 64]) {
    await rejectsWith(
      sealRecord(utf8('x'), [{ id: ID, publicKey: new Uint8Array(n) }], aad),
      'BAD_KEY',
      `pk ${n}`,
    );
    await rejectsWith(openRecord(sealed, ID, new Uint8Array(n), aad), 'BAD_KEY', `sk ${n}`);
    await rejectsWith(
      rewrapFor(sealed, ID, privateKey, { id: 'b', publicKey: new Uint8Array(n) }, aad),
      'BAD_KEY',
      `rewrap pk ${n}`,
    );
  }
  // An all-zero public key is low order (RFC 7748 §6.1): refused, never sealed to.
  await rejectsWith(
    sealRecord(utf8('x'), [{ id: ID, publicKey: new Uint8Array(32) }], aad),
    'BAD_KEY',
    'zero pk',
  );
  assert.ok(publicKey.length === 32);
});

test('non-Uint8Array plaintext or aad is a TypeError (programming error)', async () => {
  const { sealed, privateKey, publicKey } = await fixture();
  await assert.rejects(sealRecord('text' as unknown as Uint8Array, [{ id: ID, publicKey }], aad), TypeError);
  await assert.rejects(
    sealRecord(utf8('x'), [{ id: ID, publicKey }], 'aad' as unknown as Uint8Array),
    TypeError,
  );
  await assert.rejects(openRecord(sealed, ID, privateKey, [1, 2] as unknown as Uint8Array), TypeError);
});

test('parseSealedRecord / every entry point: MALFORMED_ENVELOPE for anything off-format', async () => {
  const { sealed, privateKey } = await fixture();
  const k = sealed.keys[0]!;
  const padded = (s: string): string => s + '='.repeat((4 - (s.length % 4)) % 4 || 4);
  // Sets a trailing (unused) bit of the last base64url character: same bytes, other encoding.
  const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const nonCanonical = (s: string): string => s.slice(0, -1) + B64[B64.indexOf(s.at(-1)!) | 1]!;
  const bad: [string, unknown][] = [
    ['null', null],
    ['array', [sealed]],
    ['string', JSON.stringify(sealed)],
    ['v 2', { ...sealed, v: 2 }],
    ['v "1"', { ...sealed, v: '1' }],
    ['alg', { ...sealed, alg: 'A128GCM' }],
    ['extra field', { ...sealed, extra: 1 }],
    ['missing nonce', { v: 1, alg: 'A256GCM', ciphertext: sealed.ciphertext, keys: sealed.keys }],
    ['padded nonce', { ...sealed, nonce: padded(sealed.nonce) }],
    ['std base64 nonce', { ...sealed, nonce: sealed.nonce.replace(/./, '+') }],
    ['short nonce', { ...sealed, nonce: toBase64Url(new Uint8Array(11)) }],
    ['long nonce', { ...sealed, nonce: toBase64Url(new Uint8Array(16)) }],
    ['ciphertext shorter than a tag', { ...sealed, ciphertext: toBase64Url(new Uint8Array(15)) }],
    ['ciphertext not a string', { ...sealed, ciphertext: 42 }],
    ['keys not an array', { ...sealed, keys: k }],
    ['key entry null', { ...sealed, keys: [null] }],
    ['key entry extra field', { ...sealed, keys: [{ ...k, x: 1 }] }],
    ['key entry missing enc', { ...sealed, keys: [{ recipient: k.recipient, wrapped: k.wrapped }] }],
    ['empty recipient', { ...sealed, keys: [{ ...k, recipient: '' }] }],
    ['recipient not a string', { ...sealed, keys: [{ ...k, recipient: 7 }] }],
    ['duplicate recipient', { ...sealed, keys: [k, k] }],
    ['short enc', { ...sealed, keys: [{ ...k, enc: toBase64Url(new Uint8Array(31)) }] }],
    ['long wrapped', { ...sealed, keys: [{ ...k, wrapped: toBase64Url(new Uint8Array(49)) }] }],
    ['non-canonical enc (trailing bits)', { ...sealed, keys: [{ ...k, enc: nonCanonical(k.enc) }] }],
    ['nonce of bad base64url length', { ...sealed, nonce: sealed.nonce + 'A' }],
  ];
  for (const [what, value] of bad) {
    await rejectsWith(() => parseSealedRecord(value), 'MALFORMED_ENVELOPE', `parse: ${what}`);
    await rejectsWith(
      openRecord(value as SealedRecord, ID, privateKey, aad),
      'MALFORMED_ENVELOPE',
      `open: ${what}`,
    );
  }
  // A well-formed envelope parses to an equal copy, not the same object.
  const copy = parseSealedRecord(JSON.parse(JSON.stringify(sealed)));
  assert.deepEqual(copy, sealed);
  assert.notEqual(copy.keys, sealed.keys);
});

test('forgetRecipient: removes one wrapped key, idempotently; the last one crypto-shreds', async () => {
  const a = await generateEncryptionKeyPair();
  const b = await generateEncryptionKeyPair();
  const pt = utf8('{"resourceType":"Condition"}');
  const sealed = await sealRecord(
    pt,
    [
      { id: ID, publicKey: a.publicKey },
      { id: 'org2/bob', publicKey: b.publicKey },
    ],
    aad,
  );
  const noBob = forgetRecipient(sealed, 'org2/bob');
  assert.deepEqual(
    noBob.keys.map((k) => k.recipient),
    [ID],
  );
  assert.equal(sealed.keys.length, 2, 'input unchanged');
  assert.deepEqual(forgetRecipient(noBob, 'org2/bob'), noBob, 'idempotent');
  await rejectsWith(openRecord(noBob, 'org2/bob', b.privateKey, aad), 'NO_KEY_FOR_RECIPIENT');
  assert.deepEqual(await openRecord(noBob, ID, a.privateKey, aad), pt);
  const shredded = forgetRecipient(noBob, ID);
  assert.deepEqual(shredded.keys, []);
  assert.deepEqual(parseSealedRecord(shredded), shredded, 'an envelope with no keys is still well-formed');
  await rejectsWith(openRecord(shredded, ID, a.privateKey, aad), 'NO_KEY_FOR_RECIPIENT');
  await rejectsWith(
    rewrapFor(shredded, ID, a.privateKey, { id: 'org2/bob', publicKey: b.publicKey }, aad),
    'NO_KEY_FOR_RECIPIENT',
  );
});

test('rewrapFor validates the new recipient before touching keys', async () => {
  const { sealed, privateKey, publicKey } = await fixture();
  await rejectsWith(rewrapFor(sealed, ID, privateKey, { id: '', publicKey }, aad), 'BAD_RECIPIENT');
  await rejectsWith(
    rewrapFor(sealed, 'nobody', privateKey, { id: 'b', publicKey }, aad),
    'NO_KEY_FOR_RECIPIENT',
  );
  const self = await rewrapFor(sealed, ID, privateKey, { id: ID, publicKey }, aad);
  assert.equal(self.keys.length, 1);
  assert.notEqual(self.keys[0]!.enc, sealed.keys[0]!.enc, 'a fresh HPKE encapsulation');
  assert.deepEqual(await openRecord(self, ID, privateKey, aad), utf8('{"resourceType":"Patient"}'));
});

test('releases: one HPKE wrap, per-record keys; tampering and the wrong recipient fail', async () => {
  const { sealRelease, openRelease, sealRecordWithKey, recordAad } = await import('./envelope.js');
  const me = await generateEncryptionKeyPair();
  const other = await generateEncryptionKeyPair();
  const custodian = await generateEncryptionKeyPair();
  const items = [];
  for (let i = 0; i < 5; i++) {
    const { sealed, dataKey } = await sealRecordWithKey(
      new TextEncoder().encode(`record ${i}`),
      [{ id: 'c', publicKey: custodian.publicKey }],
      recordAad(`r${i}`, 1, 'p'),
    );
    items.push({ id: `r${i}`, version: 1, resourceType: 'Observation', sealed, dataKey });
  }
  const bundle = await sealRelease({ id: 'me', publicKey: me.publicKey }, 'p', items);
  const opened = await openRelease(bundle, 'me', me.privateKey);
  assert.deepEqual(
    opened.map((o) => new TextDecoder().decode(o.plaintext)),
    ['record 0', 'record 1', 'record 2', 'record 3', 'record 4'],
  );
  await assert.rejects(
    openRelease(bundle, 'me', other.privateKey),
    (e: unknown) => e instanceof EnvelopeError,
  );
  await assert.rejects(
    openRelease(bundle, 'someone-else', me.privateKey),
    (e: unknown) => e instanceof EnvelopeError,
  );
  const flip = (s: string) =>
    s[5] === 'A' ? s.slice(0, 5) + 'B' + s.slice(6) : s.slice(0, 5) + 'A' + s.slice(6);
  const tampered = [
    { ...bundle, records: bundle.records.map((r, i) => (i === 2 ? { ...r, key: flip(r.key) } : r)) },
    {
      ...bundle,
      records: bundle.records.map((r, i) => (i === 3 ? { ...r, ciphertext: flip(r.ciphertext) } : r)),
    },
    { ...bundle, records: bundle.records.map((r, i) => (i === 1 ? { ...r, id: 'r9' } : r)) },
    { ...bundle, patient: 'q' },
  ];
  for (const t of tampered)
    await assert.rejects(
      openRelease(t, 'me', me.privateKey),
      (e: unknown) => e instanceof EnvelopeError && e.code === 'DECRYPT_FAILED',
    );
});

test('the WebCrypto release path (browsers) opens what the native path built, and refuses tampering', async () => {
  const { spawnSync } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  const self = fileURLToPath(new URL(import.meta.url));
  const mod = new URL(self.endsWith('.ts') ? './envelope.ts' : './envelope.js', import.meta.url).href;
  const script = `
    process.getBuiltinModule = undefined; // as in a browser: no Node crypto, WebCrypto only
    const e = await import(${JSON.stringify(mod)});
    const me = await e.generateEncryptionKeyPair();
    const { sealed, dataKey } = await e.sealRecordWithKey(new TextEncoder().encode('hello'), [{ id: 'c', publicKey: me.publicKey }], e.recordAad('r1', 1, 'p'));
    const release = await e.sealRelease({ id: 'me', publicKey: me.publicKey }, 'p', [{ id: 'r1', version: 1, resourceType: 'Observation', sealed, dataKey }]);
    const ok = new TextDecoder().decode((await e.openRelease(JSON.parse(JSON.stringify(release)), 'me', me.privateKey))[0].plaintext);
    let refused = false;
    try { await e.openRelease({ ...release, patient: 'q' }, 'me', me.privateKey); } catch (x) { refused = x.code === 'DECRYPT_FAILED'; }
    console.log(JSON.stringify({ ok, refused }));`;
  const args = self.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const r = spawnSync(process.execPath, [...args, '--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout.trim().split('\n').pop()!), { ok: 'hello', refused: true });
});
