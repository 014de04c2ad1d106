/**
 * Minimal strict DER (X.690 §8, §10) encode/decode primitives and PEM armour (RFC 7468) for
 * certificates: canonical encodings only, since an attacker may have written the bytes.
 * @module
 */
import { concatBytes, fromBase64Url, toBase64Url } from '../bytes.js';
import { CertificateError, type CertificateErrorCode } from './profile.js';

// ---------------------------------------------------------------------------------------------
// Minimal strict DER helpers (X.690 §8, §10)
// ---------------------------------------------------------------------------------------------

/** Universal tags of the DER elements certificates use here (X.690 §8.1.2). */
export const TAG_BOOLEAN = 0x01;
export const TAG_INTEGER = 0x02;
export const TAG_BIT_STRING = 0x03;
export const TAG_OCTET_STRING = 0x04;
export const TAG_UTF8_STRING = 0x0c;
export const TAG_SEQUENCE = 0x30;

/** DER length octets for `n` (short form below 128, else minimal long form). */
function derLength(n: number): Uint8Array {
  if (n < 0x80) return new Uint8Array([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return new Uint8Array([0x80 | bytes.length, ...bytes]);
}

/** One DER element: `tag`, minimal length, `content`. */
export function tlv(tag: number, content: Uint8Array): Uint8Array {
  return concatBytes(new Uint8Array([tag]), derLength(content.length), content);
}

/** A DER element read by {@link readTlv}. */
interface Tlv {
  tag: number;
  content: Uint8Array;
  /** Offset just past this element. */
  end: number;
}

/**
 * Reads one DER element at `offset` of `bytes` (low tag numbers only). Definite, minimal-length
 * encodings only (X.690 §10.1, §8.1.3.5): anything else is `NOT_DER`; truncation is `malformed`.
 */
export function readTlv(bytes: Uint8Array, offset: number, malformed: CertificateErrorCode): Tlv {
  const tag = bytes[offset];
  const first = bytes[offset + 1];
  if (tag === undefined || first === undefined)
    throw new CertificateError(malformed, 'truncated DER element');
  if ((tag & 0x1f) === 0x1f) throw new CertificateError(malformed, 'high-tag-number form is not used here');
  let pos = offset + 2;
  let length = first;
  if (first === 0x80) throw new CertificateError('NOT_DER', 'indefinite length (X.690 §10.1)');
  if (first > 0x80) {
    const n = first & 0x7f;
    if (n > 4) throw new CertificateError(malformed, 'length too large');
    length = 0;
    for (let i = 0; i < n; i++) {
      const b = bytes[pos++];
      if (b === undefined) throw new CertificateError(malformed, 'truncated length');
      if (i === 0 && b === 0)
        throw new CertificateError('NOT_DER', 'length has a leading zero octet (X.690 §10.1)');
      length = length * 256 + b;
    }
    if (length < 0x80) throw new CertificateError('NOT_DER', 'long-form length where short form is required');
  }
  const end = pos + length;
  if (end > bytes.length) throw new CertificateError(malformed, 'element extends past the end of the input');
  return { tag, content: bytes.subarray(pos, end), end };
}

/** Reads exactly one element filling `bytes`, with the expected tag. */
export function readOnly(bytes: Uint8Array, tag: number, malformed: CertificateErrorCode): Uint8Array {
  const el = readTlv(bytes, 0, malformed);
  if (el.tag !== tag) throw new CertificateError(malformed, `expected tag 0x${tag.toString(16)}`);
  if (el.end !== bytes.length) throw new CertificateError(malformed, 'trailing bytes inside extension value');
  return el.content;
}

/** INTEGER content is minimal (X.690 §8.3.2). */
export function isMinimalInteger(c: Uint8Array): boolean {
  if (c.length === 0) return false;
  if (c.length === 1) return true;
  const a = c[0]!;
  const b = c[1]!;
  return !((a === 0x00 && (b & 0x80) === 0) || (a === 0xff && (b & 0x80) !== 0));
}

/** DER BIT STRING for a named-bit list: trailing zero bits removed (X.690 §11.2.2). */
export function encodeNamedBits(bits: readonly number[]): Uint8Array {
  if (bits.length === 0) return tlv(TAG_BIT_STRING, new Uint8Array([0]));
  const max = Math.max(...bits);
  const out = new Uint8Array(1 + (max >> 3) + 1);
  out[0] = 7 - (max & 7);
  for (const bit of bits) out[1 + (bit >> 3)]! |= 0x80 >> (bit & 7);
  return tlv(TAG_BIT_STRING, out);
}

/** A fresh ArrayBuffer holding exactly `bytes` (what the ASN.1 parser takes). */
export function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  // Copy explicitly: a Node Buffer's slice() is a view, whose .buffer would include bytes outside it.
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return copy.buffer;
}

// ---------------------------------------------------------------------------------------------
// PEM (RFC 7468)
// ---------------------------------------------------------------------------------------------

/** RFC 7468 §3: label = [ labelchar *( ["-" / SP] labelchar ) ], labelchar = %x21-2C / %x2E-7E. */
const PEM_LABEL = /^(?:[\x21-\x2c\x2e-\x7e](?:[- ]?[\x21-\x2c\x2e-\x7e])*)?$/;

function checkLabel(label: string): void {
  if (typeof label !== 'string' || !PEM_LABEL.test(label))
    throw new CertificateError('BAD_PEM', 'invalid PEM label');
}

function toBase64(bytes: Uint8Array): string {
  const s = toBase64Url(bytes).replace(/-/g, '+').replace(/_/g, '/');
  return s + '='.repeat((4 - (s.length % 4)) % 4);
}

/** Strict standard base64 with padding (RFC 4648 §4): canonical, so one encoding per value. */
function fromBase64(s: string): Uint8Array {
  if (s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s))
    throw new CertificateError('BAD_PEM', 'bad base64');
  const body = s.replace(/=+$/, ''); // length % 4 === 0 makes the padding count consistent
  try {
    return fromBase64Url(body.replace(/\+/g, '-').replace(/\//g, '_'));
  } catch {
    throw new CertificateError('BAD_PEM', 'non-canonical base64');
  }
}

/**
 * PEM-armours DER (RFC 7468 §2: 64-character lines, trailing newline).
 * @example toPem(der) // '-----BEGIN CERTIFICATE-----\nMIIB…\n-----END CERTIFICATE-----\n'
 */
export function toPem(der: Uint8Array, label = 'CERTIFICATE'): string {
  checkLabel(label);
  const b64 = toBase64(der);
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  return `-----BEGIN ${label}-----\n${lines.join('\n')}${lines.length > 0 ? '\n' : ''}-----END ${label}-----\n`;
}

/**
 * Decodes exactly one PEM block with `label` (default `CERTIFICATE`). Whitespace (space, tab,
 * CR, LF) is allowed around the block and between base64 lines; any other text, a second block,
 * headers, a different label, or non-canonical base64 throws `BAD_PEM`.
 * @example const der = fromPem(await file.text())
 */
export function fromPem(pem: string, label = 'CERTIFICATE'): Uint8Array {
  checkLabel(label);
  if (typeof pem !== 'string') throw new CertificateError('BAD_PEM', 'PEM must be a string');
  const begins = pem.split('-----BEGIN ').length - 1;
  const ends = pem.split('-----END ').length - 1;
  if (begins !== 1 || ends !== 1)
    throw new CertificateError('BAD_PEM', `expected exactly one PEM block, found ${begins}`);
  const trimmed = pem.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '');
  const head = `-----BEGIN ${label}-----`;
  const tail = `-----END ${label}-----`;
  if (!trimmed.startsWith(head) || !trimmed.endsWith(tail) || trimmed.length < head.length + tail.length)
    throw new CertificateError('BAD_PEM', `expected a single "${label}" block with nothing around it`);
  const body = trimmed.slice(head.length, trimmed.length - tail.length);
  if (!/^[A-Za-z0-9+/= \t\r\n]*$/.test(body))
    throw new CertificateError('BAD_PEM', 'unexpected characters in PEM body');
  const der = fromBase64(body.replace(/[ \t\r\n]/g, ''));
  if (der.length === 0) throw new CertificateError('BAD_PEM', 'empty PEM block');
  return der;
}
