import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { testdata } from '../test-support/paths.js';
import { fromHex, toHex, utf8 } from './bytes.js';
import { generateKeyPair, publicKeyOf, sign, verify } from './ed25519.js';

interface WycheproofVector {
  tcId: number;
  comment: string;
  flags: string[];
  msg: string;
  sig: string;
  result: 'valid' | 'invalid' | 'acceptable';
}
interface WycheproofFile {
  numberOfTests: number;
  testGroups: { publicKey: { pk: string }; tests: WycheproofVector[] }[];
}

const wycheproof = JSON.parse(
  readFileSync(testdata('wycheproof', 'ed25519_test.json'), 'utf8'),
) as WycheproofFile;

test('Wycheproof ed25519: protocol verify (noble, zip215:false) matches every vector', () => {
  const failures: string[] = [];
  let count = 0;
  for (const group of wycheproof.testGroups) {
    const publicKey = fromHex(group.publicKey.pk);
    for (const v of group.tests) {
      count++;
      // The file has no `acceptable` vectors; if one appears it must be listed here with a
      // decision, because every node must reach the same verdict (see ed25519-native.test.ts).
      assert.notEqual(v.result, 'acceptable', `tcId ${v.tcId}: decide how to treat "acceptable"`);
      const got = verify(fromHex(v.sig), fromHex(v.msg), publicKey);
      if (got !== (v.result === 'valid'))
        failures.push(`tcId ${v.tcId} (${v.flags.join(',')}): got ${got}, want ${v.result}`);
    }
  }
  assert.ok(count > 100, `only ${count} vectors`);
  assert.equal(count, wycheproof.numberOfTests);
  assert.deepEqual(failures, []);
});

// RFC 8032 §7.1 TEST 1, 2 and 3: [seed, public key, message, signature].
const RFC8032: [string, string, string, string][] = [
  [
    '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
    'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    '',
    'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  ],
  [
    '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
    '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
    '72',
    '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
  ],
  [
    'c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7',
    'fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025',
    'af82',
    '6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a',
  ],
];

test('RFC 8032 §7.1 tests 1-3: key derivation, deterministic signature, verification', () => {
  for (const [i, [seed, pub, msg, sig]] of RFC8032.entries()) {
    const name = `TEST ${i + 1}`;
    assert.equal(toHex(publicKeyOf(fromHex(seed))), pub, name);
    assert.equal(toHex(sign(fromHex(msg), fromHex(seed))), sig, name);
    assert.equal(verify(fromHex(sig), fromHex(msg), fromHex(pub)), true, name);
    // One flipped bit anywhere (R, S or the message) must fail.
    const bad = fromHex(sig);
    bad[5]! ^= 1;
    assert.equal(verify(bad, fromHex(msg), fromHex(pub)), false, `${name} R bit flip`);
    const badS = fromHex(sig);
    badS[40]! ^= 1;
    assert.equal(verify(badS, fromHex(msg), fromHex(pub)), false, `${name} S bit flip`);
    assert.equal(verify(fromHex(sig), utf8('x' + msg), fromHex(pub)), false, `${name} other message`);
  }
});

test('sign/verify round trip with a fresh key; wrong key, wrong lengths and garbage return false', () => {
  const { privateKey, publicKey } = generateKeyPair();
  const other = generateKeyPair().publicKey;
  const message = utf8('healthledger round trip');
  const sig = sign(message, privateKey);
  assert.equal(sig.length, 64);
  assert.equal(verify(sig, message, publicKey), true);
  assert.equal(verify(sig, message, other), false);
  assert.equal(verify(sig.subarray(0, 63), message, publicKey), false);
  assert.equal(verify(new Uint8Array([...sig, 0]), message, publicKey), false);
  assert.equal(verify(sig, message, publicKey.subarray(0, 31)), false);
  assert.equal(verify(new Uint8Array(64), message, new Uint8Array(32)), false);
  assert.equal(verify(sig, message, new Uint8Array(32).fill(0xff)), false);
});
