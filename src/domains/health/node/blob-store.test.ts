import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, createHash, hkdfSync, randomFillSync } from 'node:crypto';
import { link, mkdtemp, readFile, readdir, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { BLOB_CHUNK_SIZE, BlobStore, BlobStoreError, BlobStoreErrorCodes } from './blob-store.js';
import type { BlobStoreErrorCode } from './blob-store.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const HEADER = 44;
const SEG = BLOB_CHUNK_SIZE + 16;

let dir: string;
let store: BlobStore;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hl-blobs-'));
  store = new BlobStore(join(dir, 'blobs'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function random(n: number): Buffer {
  return randomFillSync(Buffer.allocUnsafe(n));
}

async function* pieces(data: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let o = 0; o < data.length; o += size) yield data.subarray(o, Math.min(o + size, data.length));
}

/** Drains `get`, returning what was yielded before any error and the error. */
async function drain(id: string, key: Uint8Array): Promise<{ out: Buffer; error?: unknown }> {
  const parts: Uint8Array[] = [];
  try {
    for await (const p of store.get(id, key)) parts.push(p);
    return { out: Buffer.concat(parts) };
  } catch (error) {
    return { out: Buffer.concat(parts), error };
  }
}

function assertCode(error: unknown, code: BlobStoreErrorCode, what: string): void {
  assert.ok(
    error instanceof BlobStoreError,
    `${what}: expected BlobStoreError ${code}, got ${String(error)}`,
  );
  assert.equal(error.code, code, `${what}: ${error.message}`);
}

/** Writes raw file bytes under a fresh valid id (for tampered copies). */
async function storeRaw(bytes: Uint8Array): Promise<string> {
  const id = createHash('sha256').update(bytes).digest('hex');
  await writeFile(join(store.dir, id), bytes);
  return id;
}

/**
 * An independent encoder for the documented format, so the tests can forge files with chosen
 * chunk flags and counters (what an attacker with the key's cooperation could not do otherwise).
 */
function forge(key: Uint8Array, chunks: { plaintext: Uint8Array; counter: number; last: boolean }[]): Buffer {
  const salt = random(16);
  const prefix = random(7);
  const okm = Buffer.from(hkdfSync('sha256', key, salt, Buffer.from('healthledger/v1/blob-stream'), 48));
  const header = Buffer.concat([Buffer.from('HLBS'), Buffer.from([1]), salt, prefix, okm.subarray(32)]);
  const parts = [header];
  for (const { plaintext, counter, last } of chunks) {
    const nonce = Buffer.alloc(12);
    prefix.copy(nonce);
    nonce.writeUInt32BE(counter, 7);
    nonce[11] = last ? 1 : 0;
    const c = createCipheriv('aes-256-gcm', okm.subarray(0, 32), nonce, { authTagLength: 16 });
    c.setAAD(header);
    parts.push(c.update(plaintext), c.final(), c.getAuthTag());
  }
  return Buffer.concat(parts);
}

test('error codes are documented in one line each', () => {
  for (const [code, meaning] of Object.entries(BlobStoreErrorCodes)) {
    assert.match(code, /^[A-Z_]+$/);
    assert.match(meaning, /^[A-Z].*\.$/);
    assert.ok(!meaning.includes('\n') && !meaning.includes('|'));
  }
  const e = new BlobStoreError('NOT_FOUND');
  assert.equal(e.name, 'BlobStoreError');
  assert.equal(e.message, `NOT_FOUND: ${BlobStoreErrorCodes.NOT_FOUND}`);
});

test('round trip: empty, 1 byte, 64 KiB, 64 KiB + 1, 128 KiB, 200 KiB, any piece sizes', async () => {
  const key = random(32);
  for (const n of [
    0,
    1,
    BLOB_CHUNK_SIZE - 1,
    BLOB_CHUNK_SIZE,
    BLOB_CHUNK_SIZE + 1,
    2 * BLOB_CHUNK_SIZE,
    200 * KiB,
  ]) {
    const data = random(n);
    for (const pieceSize of [1000, BLOB_CHUNK_SIZE, 3 * BLOB_CHUNK_SIZE + 7]) {
      if (n > 70 * KiB && pieceSize === 1000) continue; // keep the loop quick
      const { id, size, plaintextSize } = await store.put(pieces(data, pieceSize), key);
      const chunks = Math.max(1, Math.ceil(n / BLOB_CHUNK_SIZE));
      assert.equal(plaintextSize, n);
      assert.equal(size, HEADER + n + 16 * chunks, `size of ${n}`);
      const file = await readFile(join(store.dir, id));
      assert.equal(file.length, size);
      assert.equal(
        createHash('sha256').update(file).digest('hex'),
        id,
        'id = SHA-256 of the stored ciphertext',
      );
      if (n >= 32) assert.equal(file.indexOf(data.subarray(0, 32)), -1, 'no plaintext at rest');
      assert.equal(await store.has(id), true);
      const { out, error } = await drain(id, key);
      assert.equal(error, undefined);
      assert.ok(out.equals(data), `round trip ${n} in pieces of ${pieceSize}`);
    }
  }
});

test('put accepts a Node readable stream; equal plaintexts get unrelated ids', async () => {
  const key = random(32);
  const data = random(100 * KiB);
  const a = await store.put(Readable.from([data.subarray(0, 5), data.subarray(5)]), key);
  const b = await store.put(Readable.from([data]), key);
  assert.notEqual(a.id, b.id);
  assert.ok((await drain(a.id, key)).out.equals(data));
  assert.ok((await drain(b.id, key)).out.equals(data));
  // get is consumable as a stream too.
  const viaStream = Buffer.concat(await Readable.from(store.get(a.id, key)).toArray());
  assert.ok(viaStream.equals(data));
});

test('50 MiB streamed through put and get without holding it in memory', async (t) => {
  // Without forced collections V8 lets ~30 MiB of already-dead 64 KiB chunk buffers pile up
  // before collecting (measured), which is GC scheduling, not retention. Collecting every ~1.6 MiB
  // of input makes RSS measure what the store holds: about 3-6 MiB here, ~50 MiB for a store
  // that buffers the blob.
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const total = 50 * MiB;
  const key = random(32);
  const piece = 100_000; // not a multiple of the chunk size
  gc();
  const baseline = process.memoryUsage.rss();
  let peak = baseline;
  let samples = 0;
  const sample = (): void => {
    if (++samples % 16 === 0) gc();
    const rss = process.memoryUsage.rss();
    if (rss > peak) peak = rss;
  };
  const inHash = createHash('sha256');
  async function* source(): AsyncGenerator<Uint8Array> {
    for (let o = 0; o < total; o += piece) {
      const p = random(Math.min(piece, total - o));
      inHash.update(p);
      sample();
      yield p;
    }
  }
  const { id, size, plaintextSize } = await store.put(source(), key);
  assert.equal(plaintextSize, total);
  assert.equal(size, HEADER + total + 16 * (total / BLOB_CHUNK_SIZE));
  const outHash = createHash('sha256');
  let outBytes = 0;
  for await (const p of store.get(id, key)) {
    outHash.update(p);
    outBytes += p.length;
    sample();
  }
  assert.equal(outBytes, total);
  assert.equal(outHash.digest('hex'), inHash.digest('hex'));
  const growth = peak - baseline;
  t.diagnostic(`peak RSS growth ${(growth / MiB).toFixed(1)} MiB for a ${total / MiB} MiB blob`);
  assert.ok(growth < 16 * MiB, `RSS grew by ${(growth / MiB).toFixed(1)} MiB`);
  await store.delete(id);
});

test('put copies what it keeps: a source that reuses its buffer is stored correctly', async () => {
  const key = random(32);
  const expected: Buffer[] = [];
  const shared = Buffer.alloc(50_000);
  async function* reusing(): AsyncGenerator<Uint8Array> {
    for (let i = 0; i < 7; i++) {
      randomFillSync(shared);
      expected.push(Buffer.from(shared));
      yield shared;
    }
  }
  const { id } = await store.put(reusing(), key);
  assert.ok((await drain(id, key)).out.equals(Buffer.concat(expected)));
});

test('wrong key: WRONG_KEY before any plaintext; BAD_KEY for a key that is not 32 bytes', async () => {
  const key = random(32);
  const { id } = await store.put(pieces(random(3 * BLOB_CHUNK_SIZE), BLOB_CHUNK_SIZE), key);
  const other = Buffer.from(key);
  other[0]! ^= 1;
  const { out, error } = await drain(id, other);
  assertCode(error, 'WRONG_KEY', 'wrong key');
  assert.equal(out.length, 0);
  assertCode((await drain(id, random(31))).error, 'BAD_KEY', 'short key on get');
  await assert.rejects(store.put(pieces(random(10), 10), random(16)), { code: 'BAD_KEY' });
});

test('truncated file: clear error, and no plaintext from the damaged chunk', async () => {
  const key = random(32);
  const data = random(3 * BLOB_CHUNK_SIZE + 1000); // chunks: full, full, full, 1000-byte final
  const { id } = await store.put(pieces(data, 50_000), key);
  const file = await readFile(join(store.dir, id));
  const cases: [string, number, BlobStoreErrorCode, number][] = [
    // [what, new length, expected code, plaintext bytes released before the error]
    ['inside the final chunk', file.length - 100, 'CORRUPT', 3 * BLOB_CHUNK_SIZE],
    ['final chunk removed (at a chunk boundary)', HEADER + 3 * SEG, 'TRUNCATED', 2 * BLOB_CHUNK_SIZE],
    ['inside the second chunk', HEADER + SEG + 500, 'CORRUPT', BLOB_CHUNK_SIZE],
    ['inside the first tag', HEADER + 10, 'TRUNCATED', 0],
    ['header only', HEADER, 'TRUNCATED', 0],
    ['inside the header', 20, 'CORRUPT', 0],
  ];
  for (const [what, length, code, released] of cases) {
    const cut = await storeRaw(file.subarray(0, length));
    const { out, error } = await drain(cut, key);
    assertCode(error, code, what);
    assert.equal(out.length, released, `${what}: plaintext released`);
    assert.ok(out.equals(data.subarray(0, released)), `${what}: only authentic plaintext released`);
  }
  // The original is untouched.
  assert.ok((await drain(id, key)).out.equals(data));
  // Truncating the stored file itself behaves the same.
  await truncate(join(store.dir, id), HEADER + 2 * SEG);
  assertCode((await drain(id, key)).error, 'TRUNCATED', 'truncate(2) in place');
});

test('a swapped chunk, a chunk from another blob, or an appended chunk → CORRUPT', async () => {
  const key = random(32);
  const data = random(3 * BLOB_CHUNK_SIZE + 10);
  const { id } = await store.put(pieces(data, BLOB_CHUNK_SIZE), key);
  const file = await readFile(join(store.dir, id));
  const seg = (i: number): Buffer => file.subarray(HEADER + i * SEG, HEADER + (i + 1) * SEG);
  const header = file.subarray(0, HEADER);
  const tail = file.subarray(HEADER + 3 * SEG);

  const swapped = Buffer.concat([header, seg(1), seg(0), seg(2), tail]);
  let r = await drain(await storeRaw(swapped), key);
  assertCode(r.error, 'CORRUPT', 'chunks 0 and 1 swapped');
  assert.equal(r.out.length, 0, 'nothing released');

  const swapped12 = Buffer.concat([header, seg(0), seg(2), seg(1), tail]);
  r = await drain(await storeRaw(swapped12), key);
  assertCode(r.error, 'CORRUPT', 'chunks 1 and 2 swapped');
  assert.ok(r.out.equals(data.subarray(0, BLOB_CHUNK_SIZE)), 'only chunk 0 released');

  // Same key, another blob: its chunks are bound to its own header (salt, prefix).
  const other = await store.put(pieces(random(3 * BLOB_CHUNK_SIZE + 10), BLOB_CHUNK_SIZE), key);
  const otherFile = await readFile(join(store.dir, other.id));
  const spliced = Buffer.concat([
    header,
    seg(0),
    otherFile.subarray(HEADER + SEG, HEADER + 2 * SEG),
    seg(2),
    tail,
  ]);
  r = await drain(await storeRaw(spliced), key);
  assertCode(r.error, 'CORRUPT', 'chunk from another blob');
  assert.equal(r.out.length, BLOB_CHUNK_SIZE);

  const appended = Buffer.concat([file, seg(0)]);
  assertCode((await drain(await storeRaw(appended), key)).error, 'CORRUPT', 'appended chunk');
});

test('a flipped byte anywhere → WRONG_KEY (salt, key check) or CORRUPT (everything else)', async () => {
  const key = random(32);
  const data = random(2 * BLOB_CHUNK_SIZE + 5);
  const { id } = await store.put(pieces(data, BLOB_CHUNK_SIZE), key);
  const file = await readFile(join(store.dir, id));
  const cases: [string, number, BlobStoreErrorCode][] = [
    ['magic', 0, 'CORRUPT'],
    ['version', 4, 'CORRUPT'],
    ['salt', 5, 'WRONG_KEY'],
    ['nonce prefix', 21, 'CORRUPT'],
    ['key check', 30, 'WRONG_KEY'],
    ['chunk 0 ciphertext', HEADER + 7, 'CORRUPT'],
    ['chunk 0 tag', HEADER + SEG - 1, 'CORRUPT'],
    ['chunk 1 ciphertext', HEADER + SEG + 1234, 'CORRUPT'],
    ['final chunk ciphertext', HEADER + 2 * SEG + 2, 'CORRUPT'],
    ['final chunk tag', file.length - 1, 'CORRUPT'],
  ];
  for (const [what, at, code] of cases) {
    const bad = Buffer.from(file);
    bad[at]! ^= 0x01;
    const { out, error } = await drain(await storeRaw(bad), key);
    assertCode(error, code, what);
    const chunk = at < HEADER ? 0 : Math.floor((at - HEADER) / SEG);
    assert.equal(out.length, chunk * BLOB_CHUNK_SIZE, `${what}: nothing from the bad chunk released`);
  }
});

test('the last-chunk flag: removed → TRUNCATED, set early → CORRUPT (forged with the documented format)', async () => {
  const key = random(32);
  const a = random(BLOB_CHUNK_SIZE);
  const b = random(100);
  // Sanity: the independent encoder produces files the store reads.
  const good = await storeRaw(
    forge(key, [
      { plaintext: a, counter: 0, last: false },
      { plaintext: b, counter: 1, last: true },
    ]),
  );
  assert.ok((await drain(good, key)).out.equals(Buffer.concat([a, b])));
  // Every chunk without the flag: the stream has no end, i.e. it was cut.
  const noFlag = await storeRaw(
    forge(key, [
      { plaintext: a, counter: 0, last: false },
      { plaintext: a, counter: 1, last: false },
    ]),
  );
  let r = await drain(noFlag, key);
  assertCode(r.error, 'TRUNCATED', 'no final flag (full final chunk)');
  assert.equal(r.out.length, BLOB_CHUNK_SIZE);
  const noFlagShort = await storeRaw(
    forge(key, [
      { plaintext: a, counter: 0, last: false },
      { plaintext: b, counter: 1, last: false },
    ]),
  );
  assertCode((await drain(noFlagShort, key)).error, 'CORRUPT', 'no final flag (short final chunk)');
  // A final flag before the end: data after the "end" is rejected.
  const early = await storeRaw(
    forge(key, [
      { plaintext: a, counter: 0, last: true },
      { plaintext: b, counter: 1, last: true },
    ]),
  );
  r = await drain(early, key);
  assertCode(r.error, 'CORRUPT', 'final flag on chunk 0 of 2');
  assert.equal(r.out.length, 0);
  // Counters must run 0, 1, 2, ...
  const skipped = await storeRaw(
    forge(key, [
      { plaintext: a, counter: 0, last: false },
      { plaintext: b, counter: 2, last: true },
    ]),
  );
  assertCode((await drain(skipped, key)).error, 'CORRUPT', 'counter gap');
});

test('delete makes a blob unrecoverable: has false, get NOT_FOUND; idempotent; no temp files left', async () => {
  const key = random(32);
  const { id } = await store.put(pieces(random(1000), 1000), key);
  assert.equal(await store.has(id), true);
  await store.delete(id);
  assert.equal(await store.has(id), false);
  assertCode((await drain(id, key)).error, 'NOT_FOUND', 'get after delete');
  await store.delete(id); // idempotent
  assert.ok(!(await readdir(store.dir)).includes(id));
  assert.deepEqual(
    (await readdir(store.dir)).filter((f) => f.startsWith('.tmp-')),
    [],
  );
});

test('shred overwrites the bytes before unlinking: a hard link to the blob sees only zeros', async () => {
  const key = random(32);
  const { id, size } = await store.put(pieces(random(3 * BLOB_CHUNK_SIZE + 5), 4096), key);
  const other = await store.put(pieces(random(100), 100), key);
  const linked = join(dir, 'hard-link-to-blob');
  await link(join(store.dir, id), linked); // e.g. a backup tool's snapshot by hard link
  await store.shred(id);
  assert.equal(await store.has(id), false);
  assertCode((await drain(id, key)).error, 'NOT_FOUND', 'get after shred');
  assert.deepEqual(await readFile(linked), Buffer.alloc(size));
  await store.shred(id); // idempotent
  assert.equal((await drain(other.id, key)).error, undefined, 'other blobs untouched');
  await rm(linked);
});

test('ids are validated: not-an-id is NOT_FOUND / false, never a path', async () => {
  const key = random(32);
  for (const bad of ['../../etc/passwd', 'A'.repeat(64), 'ab', '', `${'a'.repeat(64)}/x`]) {
    assert.equal(await store.has(bad), false, bad);
    assertCode((await drain(bad, key)).error, 'NOT_FOUND', `get ${bad}`);
    await assert.rejects(store.delete(bad), { code: 'NOT_FOUND' });
  }
  assertCode((await drain('0'.repeat(64), key)).error, 'NOT_FOUND', 'absent id');
});

test('a failing or non-byte source stores nothing and leaves no temp file', async () => {
  const key = random(32);
  const before = (await readdir(store.dir)).sort();
  async function* failing(): AsyncGenerator<Uint8Array> {
    yield random(200 * KiB);
    throw new Error('disk on the other side went away');
  }
  await assert.rejects(store.put(failing(), key), /went away/);
  await assert.rejects(store.put(Readable.from(['text']), key), { code: 'BAD_SOURCE' });
  assert.deepEqual((await readdir(store.dir)).sort(), before);
});
