/**
 * Content-addressed store for large encrypted binaries (imaging, PDFs), streamed both ways so a
 * blob is never held in memory whole.
 *
 * Format (version 1), one file per blob named by its id:
 * ```
 * header  = "HLBS" | 0x01 | salt (16) | noncePrefix (7) | keyCheck (16)          44 bytes
 * chunk i = AES-256-GCM(chunkKey, nonce_i, aad = header, plaintext_i) | tag (16)
 * nonce_i = noncePrefix (7) | uint32_be(i) | lastFlag (1: 0x01 on the final chunk, else 0x00)
 * ```
 * This is the STREAM construction (Hoang, Reyhanitabar, Rogaway, Vizár, "Online
 * Authenticated-Encryption and its Nonce-Reuse Misuse-Resistance", CRYPTO 2015) over AES-256-GCM
 * (NIST SP 800-38D; 96-bit nonces, 128-bit tags): every plaintext chunk is 64 KiB except the final
 * one (0..64 KiB; an empty blob is one empty final chunk). The counter stops reordering, the final
 * flag stops truncation at a chunk boundary, the header in every chunk's AAD stops splicing chunks
 * between blobs. `chunkKey ‖ keyCheck` = HKDF-SHA256(ikm = key, salt, info =
 * "healthledger/v1/blob-stream") (RFC 5869), so each blob gets its own chunk key (reusing a caller
 * key across blobs is safe; nonce prefixes need not be unique across blobs) and a wrong key is
 * reported as such, before any chunk is read.
 *
 * The id is the hex SHA-256 of the whole file (the ciphertext stream, header included): it names
 * the bytes at rest, lets anyone check a copy without the key, and reveals nothing about the
 * content (the salt and prefix are random, so equal plaintexts get different ids).
 *
 * Writes go to a temp file in the same directory, are fsync'd, renamed into place and the
 * directory fsync'd, so a blob is either absent or complete after a crash. Reads authenticate
 * each chunk before releasing its plaintext; earlier, authentic chunks may already have been
 * consumed when a later one fails, so a consumer must discard its output if iteration throws.
 * Deleting unlinks the file; {@link BlobStore.shred} first overwrites it with zeros in place (so
 * no hard link, reflink-free backup or later file of the directory can hold the ciphertext). On
 * SSDs and copy-on-write file systems neither erases the bytes from the medium, so real erasure is
 * still crypto-shredding: destroy every copy of the blob key.
 * @module
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import { mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

/** Plaintext bytes per chunk (all but the final chunk are exactly this size). @example BLOB_CHUNK_SIZE // 65536 */
export const BLOB_CHUNK_SIZE = 64 * 1024;

/** Length of the key passed to {@link BlobStore.put} and {@link BlobStore.get}. @example BLOB_KEY_LENGTH // 32 */
export const BLOB_KEY_LENGTH = 32;

/**
 * Every {@link BlobStoreErrorCode} with its one-line meaning (for docs/errors.md).
 * @example BlobStoreErrorCodes.TRUNCATED
 */
export const BlobStoreErrorCodes = {
  NOT_FOUND: 'No blob with this id is stored here (or the id is not 64 lower-case hex digits).',
  BAD_KEY: 'The blob key is not a 32-byte Uint8Array.',
  WRONG_KEY: 'The key does not match this blob (or its header was altered); nothing was decrypted.',
  TRUNCATED: 'The blob ends early (its final chunk is missing); the plaintext read so far is incomplete.',
  CORRUPT:
    'A chunk failed authentication (altered, reordered, from another blob) or the header is invalid; discard what was read.',
  TOO_LARGE: 'The blob would need more than 2^32 chunks (256 TiB).',
  BAD_SOURCE: 'The source yielded something other than bytes (e.g. a string from a stream with an encoding).',
} as const satisfies Record<string, string>;

/** A machine-readable blob store error code. @example const c: BlobStoreErrorCode = 'NOT_FOUND' */
export type BlobStoreErrorCode = keyof typeof BlobStoreErrorCodes;

/**
 * The one error the blob store throws for blob problems; switch on `code`. File-system failures
 * (disk full, permissions) are rethrown as they are.
 * @example
 * try { for await (const part of store.get(id, key)) out.write(part) } catch (e) {
 *   if (e instanceof BlobStoreError && e.code === 'NOT_FOUND') { ... }
 * }
 */
export class BlobStoreError extends Error {
  override readonly name = 'BlobStoreError';
  /** Machine-readable reason, see {@link BlobStoreErrorCodes}. */
  readonly code: BlobStoreErrorCode;

  /** @param code why it failed; @param message detail (blob id, chunk index). */
  constructor(code: BlobStoreErrorCode, message?: string) {
    super(message === undefined ? `${code}: ${BlobStoreErrorCodes[code]}` : `${code}: ${message}`);
    this.code = code;
  }
}

/** What {@link BlobStore.put} stored. @example const { id, size, plaintextSize } = await store.put(src, key) */
export interface PutResult {
  /** Hex SHA-256 of the stored (encrypted) file: the blob's address. */
  id: string;
  /** Bytes on disk (header, ciphertext and tags). */
  size: number;
  /** Bytes of plaintext read from the source. */
  plaintextSize: number;
}

/** Bytes to store: any async iterable of byte chunks, or a Node readable stream. @example Readable.from([buf]) */
export type BlobSource = AsyncIterable<Uint8Array> | NodeJS.ReadableStream;

const MAGIC = Buffer.from('HLBS', 'latin1');
const VERSION = 1;
const SALT_LENGTH = 16;
const PREFIX_LENGTH = 7;
const CHECK_LENGTH = 16;
const HEADER_LENGTH = MAGIC.length + 1 + SALT_LENGTH + PREFIX_LENGTH + CHECK_LENGTH;
const TAG_LENGTH = 16;
const SEGMENT = BLOB_CHUNK_SIZE + TAG_LENGTH;
const MAX_CHUNKS = 2 ** 32;
const KDF_INFO = Buffer.from('healthledger/v1/blob-stream', 'utf8');
const ID_PATTERN = /^[0-9a-f]{64}$/;

function checkKey(key: unknown): asserts key is Uint8Array {
  if (!(key instanceof Uint8Array) || key.length !== BLOB_KEY_LENGTH)
    throw new BlobStoreError('BAD_KEY', `blob key must be a ${BLOB_KEY_LENGTH}-byte Uint8Array`);
}

/** RFC 5869 HKDF-SHA256 → 32-byte chunk key and 16-byte key check value. */
function deriveKeys(key: Uint8Array, salt: Uint8Array): { chunkKey: Buffer; keyCheck: Buffer } {
  const okm = Buffer.from(hkdfSync('sha256', key, salt, KDF_INFO, 32 + CHECK_LENGTH));
  return { chunkKey: okm.subarray(0, 32), keyCheck: okm.subarray(32) };
}

function chunkNonce(prefix: Uint8Array, counter: number, last: boolean): Buffer {
  const nonce = Buffer.alloc(12);
  nonce.set(prefix, 0);
  nonce.writeUInt32BE(counter, PREFIX_LENGTH);
  nonce[11] = last ? 1 : 0;
  return nonce;
}

async function writeAll(fh: FileHandle, data: Uint8Array): Promise<void> {
  let o = 0;
  while (o < data.length) {
    const { bytesWritten } = await fh.write(data, o, data.length - o);
    o += bytesWritten;
  }
}

async function readExactly(fh: FileHandle, buf: Buffer, length: number, position: number): Promise<void> {
  let o = 0;
  while (o < length) {
    const { bytesRead } = await fh.read(buf, o, length - o, position + o);
    if (bytesRead === 0) throw new BlobStoreError('TRUNCATED', 'the blob file shrank while being read');
    o += bytesRead;
  }
}

/** fsync a directory so a rename or unlink in it is durable (POSIX; a no-op where unsupported). */
async function syncDir(dir: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch (e) {
    // Windows cannot open directories; some network file systems refuse directory fsync.
    const code = (e as NodeJS.ErrnoException).code;
    if (process.platform !== 'win32' && code !== 'EINVAL' && code !== 'ENOTSUP') throw e;
  } finally {
    await fh?.close();
  }
}

function isNotFound(e: unknown): boolean {
  return (e as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

/**
 * An encrypted, content-addressed, streamed blob store in one directory.
 * @example
 * const store = new BlobStore('/var/lib/healthledger/blobs');
 * const key = randomBytes(32); // wrap it for recipients with protocol/envelope.ts
 * const { id } = await store.put(createReadStream('scan.dcm'), key);
 * await pipeline(Readable.from(store.get(id, key)), createWriteStream('copy.dcm'));
 */
export class BlobStore {
  private ready: Promise<void> | undefined;

  /** @param dir directory holding the blobs (created on first `put`, mode 0700). */
  constructor(readonly dir: string) {}

  private pathOf(id: string): string {
    if (typeof id !== 'string' || !ID_PATTERN.test(id))
      throw new BlobStoreError('NOT_FOUND', `not a blob id: ${JSON.stringify(String(id)).slice(0, 80)}`);
    return join(this.dir, id);
  }

  /**
   * Encrypts `source` chunk by chunk into a new blob under `key` (32 bytes; use a fresh random key
   * per blob and wrap it with protocol/envelope.ts). Reads the source once, holding one chunk at a
   * time; resolves once the blob is durable. On failure nothing is left behind.
   * @example const { id, size, plaintextSize } = await store.put(createReadStream(path), key)
   */
  async put(source: BlobSource, key: Uint8Array): Promise<PutResult> {
    checkKey(key);
    this.ready ??= mkdir(this.dir, { recursive: true, mode: 0o700 }).then(() => undefined);
    await this.ready;

    const salt = randomBytes(SALT_LENGTH);
    const prefix = randomBytes(PREFIX_LENGTH);
    const { chunkKey, keyCheck } = deriveKeys(key, salt);
    const header = Buffer.concat([MAGIC, Buffer.from([VERSION]), salt, prefix, keyCheck]);
    const tmp = join(this.dir, `.tmp-${randomBytes(12).toString('hex')}`);
    const hash = createHash('sha256');
    const fh = await open(tmp, 'wx', 0o600);
    let size = 0;
    let plaintextSize = 0;
    let counter = 0;
    const emit = async (data: Uint8Array): Promise<void> => {
      hash.update(data);
      await writeAll(fh, data);
      size += data.length;
    };
    const writeChunk = async (plaintext: Uint8Array, last: boolean): Promise<void> => {
      if (counter >= MAX_CHUNKS) throw new BlobStoreError('TOO_LARGE');
      const c = createCipheriv('aes-256-gcm', chunkKey, chunkNonce(prefix, counter, last), {
        authTagLength: TAG_LENGTH,
      });
      c.setAAD(header);
      await emit(c.update(plaintext));
      c.final(); // GCM emits nothing here
      await emit(c.getAuthTag());
      counter++;
    };
    // One chunk of plaintext is staged (a copy: the source may reuse its buffers). A full chunk
    // is only written once more input arrives, as only the end of the source says which is final.
    const staging = Buffer.alloc(BLOB_CHUNK_SIZE);
    let staged = 0;
    let committed = false;
    try {
      await emit(header);
      for await (const piece of source as AsyncIterable<unknown>) {
        if (!(piece instanceof Uint8Array))
          throw new BlobStoreError('BAD_SOURCE', `source yielded ${typeof piece}, not bytes`);
        plaintextSize += piece.length;
        let o = 0;
        while (o < piece.length) {
          if (staged === BLOB_CHUNK_SIZE) {
            await writeChunk(staging, false);
            staged = 0;
          }
          const n = Math.min(piece.length - o, BLOB_CHUNK_SIZE - staged);
          staging.set(piece.subarray(o, o + n), staged);
          staged += n;
          o += n;
        }
      }
      await writeChunk(staging.subarray(0, staged), true);
      await fh.sync();
      await fh.close();
      const id = hash.digest('hex');
      await rename(tmp, join(this.dir, id));
      committed = true;
      await syncDir(this.dir);
      return { id, size, plaintextSize };
    } finally {
      chunkKey.fill(0);
      staging.fill(0);
      if (!committed) {
        await fh.close().catch(() => undefined); // already closed is fine
        await unlink(tmp).catch(() => undefined);
      }
    }
  }

  /**
   * Streams the plaintext of blob `id`, one authenticated chunk at a time: each chunk's tag is
   * checked before its plaintext is yielded. Errors surface while iterating: `NOT_FOUND`,
   * `BAD_KEY`, `WRONG_KEY` (before anything is read), `TRUNCATED` or `CORRUPT` (at the first bad
   * chunk; discard what was already yielded).
   * @example for await (const part of store.get(id, key)) hash.update(part)
   */
  async *get(id: string, key: Uint8Array): AsyncGenerator<Uint8Array, void, undefined> {
    const path = this.pathOf(id);
    checkKey(key);
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch (e) {
      if (isNotFound(e)) throw new BlobStoreError('NOT_FOUND', `no blob ${id}`);
      throw e;
    }
    let chunkKey: Buffer | undefined;
    try {
      const fileSize = (await fh.stat()).size;
      if (fileSize < HEADER_LENGTH)
        throw new BlobStoreError('CORRUPT', `blob ${id}: shorter than its header`);
      const header = Buffer.alloc(HEADER_LENGTH);
      await readExactly(fh, header, HEADER_LENGTH, 0);
      if (!header.subarray(0, MAGIC.length).equals(MAGIC) || header[MAGIC.length] !== VERSION)
        throw new BlobStoreError('CORRUPT', `blob ${id}: not a version ${VERSION} blob`);
      let o = MAGIC.length + 1;
      const salt = header.subarray(o, (o += SALT_LENGTH));
      const prefix = header.subarray(o, (o += PREFIX_LENGTH));
      const storedCheck = header.subarray(o, (o += CHECK_LENGTH));
      const derived = deriveKeys(key, salt);
      chunkKey = derived.chunkKey;
      if (!timingSafeEqual(derived.keyCheck, storedCheck))
        throw new BlobStoreError(
          'WRONG_KEY',
          `blob ${id}: the key does not match (or the header was altered)`,
        );

      const body = fileSize - HEADER_LENGTH;
      if (body < TAG_LENGTH) throw new BlobStoreError('TRUNCATED', `blob ${id}: no final chunk`);
      const chunks = Math.ceil(body / SEGMENT);
      if (chunks > MAX_CHUNKS) throw new BlobStoreError('CORRUPT', `blob ${id}: too many chunks`);
      const lastLength = body - (chunks - 1) * SEGMENT;
      if (lastLength < TAG_LENGTH)
        throw new BlobStoreError('TRUNCATED', `blob ${id}: ends inside the tag of chunk ${chunks - 1}`);
      const buf = Buffer.alloc(SEGMENT);
      const openChunk = (segment: Buffer, counter: number, last: boolean): Buffer | undefined => {
        const ctLength = segment.length - TAG_LENGTH;
        const d = createDecipheriv('aes-256-gcm', chunkKey!, chunkNonce(prefix, counter, last), {
          authTagLength: TAG_LENGTH,
        });
        d.setAAD(header);
        d.setAuthTag(segment.subarray(ctLength));
        const out = d.update(segment.subarray(0, ctLength));
        try {
          d.final(); // throws unless the tag verifies; `out` is never released before this
          return out;
        } catch {
          out.fill(0);
          return undefined;
        }
      };
      for (let i = 0; i < chunks; i++) {
        const last = i === chunks - 1;
        const length = last ? lastLength : SEGMENT;
        await readExactly(fh, buf, length, HEADER_LENGTH + i * SEGMENT);
        const segment = buf.subarray(0, length);
        const plaintext = openChunk(segment, i, last);
        if (plaintext === undefined) {
          // A full chunk that authenticates as non-final means the stream was cut after it.
          if (last && length === SEGMENT && openChunk(segment, i, false) !== undefined)
            throw new BlobStoreError('TRUNCATED', `blob ${id}: the final chunk is missing after chunk ${i}`);
          throw new BlobStoreError(
            'CORRUPT',
            `blob ${id}: chunk ${i} of ${chunks} failed authentication (altered, reordered or truncated)`,
          );
        }
        yield plaintext;
      }
    } finally {
      chunkKey?.fill(0);
      await fh.close();
    }
  }

  /**
   * True if a blob with this id is stored (false for anything that is not a blob id).
   * @example if (!(await store.has(id))) throw new Error('missing')
   */
  async has(id: string): Promise<boolean> {
    if (typeof id !== 'string' || !ID_PATTERN.test(id)) return false;
    try {
      return (await stat(join(this.dir, id))).isFile();
    } catch (e) {
      if (isNotFound(e)) return false;
      throw e;
    }
  }

  /**
   * Overwrites blob `id` with zeros in place (fsync'd), then removes it durably like
   * {@link BlobStore.delete}: for erasure, so the ciphertext is gone from the file, not only its
   * name. Idempotent. Costs one write pass over the blob.
   * @example await store.shred(id)
   */
  async shred(id: string): Promise<void> {
    const path = this.pathOf(id);
    let fh: FileHandle;
    try {
      fh = await open(path, 'r+');
    } catch (e) {
      if (isNotFound(e)) return;
      throw e;
    }
    try {
      const size = (await fh.stat()).size;
      const zeros = Buffer.alloc(Math.min(size, 1024 * 1024));
      for (let o = 0; o < size;) {
        const { bytesWritten } = await fh.write(zeros, 0, Math.min(zeros.length, size - o), o);
        o += bytesWritten;
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
    await this.delete(id);
  }

  /**
   * Removes blob `id` durably (unlink, then fsync the directory). Idempotent: deleting an absent
   * blob succeeds. Unlinking does not wipe the bytes from the medium; destroying every copy of the
   * blob key is what makes it unrecoverable (crypto-shredding).
   * @example await store.delete(id)
   */
  async delete(id: string): Promise<void> {
    const path = this.pathOf(id);
    try {
      await unlink(path);
    } catch (e) {
      if (isNotFound(e)) return;
      throw e;
    }
    await syncDir(this.dir);
  }
}
