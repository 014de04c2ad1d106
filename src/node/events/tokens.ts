/**
 * Bearer tokens for a patient's event trail. A token is obtained with a signed `events.token`
 * request (see events-service.ts) and is good for one patient for 15 minutes, and only while the
 * member it was issued to is not revoked (the token names the member; the events service checks
 * it at every use):
 *
 *     hlev2.<base64url(patient)>.<base64url(member)>.<expiresAtMs>.<base64url(HMAC-SHA256(secret, "healthledger/events-token/v2\n" + patient + "\n" + member + "\n" + expiresAtMs))>
 *
 * The secret is 32 random bytes per node, in the node home at `keys/events-secret` (mode 0600);
 * replacing the file revokes every outstanding token. Tokens are stateless: nothing is stored.
 * @module
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fromBase64Url, toBase64Url } from '../../protocol/bytes.js';
import { SUPPLY_FEED } from './event-index.js';
import { HealthLedgerError } from '../../protocol/errors.js';
import { MEMBER_ID_PATTERN } from '../../protocol/tx.js';
import { HomeFileError, readSecretText, writeSealedSecret } from '../home.js';
import type { Sealer } from '../sealer.js';
import type { Clock } from '../ordering/orderer.js';

/** How long an events token is valid. */
export const EVENTS_TOKEN_TTL_MS = 15 * 60_000;

const PREFIX = 'hlev2';
const MAC_LABEL = 'healthledger/events-token/v2\n';

/** Reads the node's events secret (sealed under `sealer` when one is configured), creating it (0600) on first use. */
export function loadOrCreateEventsSecret(path: string, sealer: Sealer | null = null): Uint8Array {
  if (existsSync(path)) {
    const k = JSON.parse(readSecretText(path, 'events-secret', sealer)) as { kty?: string; secret?: string };
    let secret: Uint8Array = new Uint8Array(0);
    try {
      if (typeof k.secret === 'string') secret = fromBase64Url(k.secret);
    } catch {
      // refused below
    }
    if (k.kty !== 'hmac-sha256' || secret.length !== 32)
      throw new HomeFileError(path, 'is not a 32-byte HMAC-SHA256 secret file');
    return secret;
  }
  const secret = new Uint8Array(randomBytes(32));
  const content = JSON.stringify({ kty: 'hmac-sha256', secret: toBase64Url(secret) }) + '\n';
  writeSealedSecret(path, 'events-secret', content, sealer);
  return secret;
}

/** Extracts the token of an `Authorization: Bearer <token>` header. */
export function bearerToken(header: string | string[] | undefined): string | undefined {
  if (typeof header !== 'string') return undefined;
  const m = /^Bearer[ ]+([A-Za-z0-9._-]{1,1024})[ ]*$/i.exec(header);
  return m?.[1];
}

export class EventTokens {
  constructor(
    private readonly secret: Uint8Array,
    private readonly clock: Clock,
    private readonly ttlMs = EVENTS_TOKEN_TTL_MS,
  ) {
    if (secret.length < 32) throw new Error('events secret must be at least 32 bytes');
  }

  private mac(patient: string, member: string, expiresAtMs: number): Buffer {
    return createHmac('sha256', this.secret)
      .update(`${MAC_LABEL}${patient}\n${member}\n${expiresAtMs}`)
      .digest();
  }

  /** A token for `patient`'s events, issued to `member`, valid for the TTL from now. */
  issue(patient: string, member: string): { token: string; expiresAtMs: number } {
    const expiresAtMs = this.clock.now() + this.ttlMs;
    const token = [
      PREFIX,
      toBase64Url(new TextEncoder().encode(patient)),
      toBase64Url(new TextEncoder().encode(member)),
      String(expiresAtMs),
      toBase64Url(this.mac(patient, member, expiresAtMs)),
    ].join('.');
    return { token, expiresAtMs };
  }

  /**
   * Checks `token` grants access to `patient`'s events now; returns its expiry and the member it
   * was issued to (whose standing the caller checks). Throws
   * EVENTS_TOKEN_MISSING / EVENTS_TOKEN_INVALID / EVENTS_TOKEN_EXPIRED (401) or
   * EVENTS_TOKEN_WRONG_PATIENT (403).
   */
  verify(token: string | undefined, patient: string): { expiresAtMs: number; member: string } {
    if (token === undefined || token === '') throw new HealthLedgerError('EVENTS_TOKEN_MISSING');
    const parts = token.split('.');
    if (parts.length !== 5 || parts[0] !== PREFIX || !/^[0-9]{1,16}$/.test(parts[3]!))
      throw new HealthLedgerError('EVENTS_TOKEN_INVALID');
    let tokenPatient: string;
    let member: string;
    let mac: Uint8Array;
    try {
      const utf8 = new TextDecoder('utf-8', { fatal: true });
      tokenPatient = utf8.decode(fromBase64Url(parts[1]!));
      member = utf8.decode(fromBase64Url(parts[2]!));
      mac = fromBase64Url(parts[4]!);
    } catch {
      throw new HealthLedgerError('EVENTS_TOKEN_INVALID');
    }
    const expiresAtMs = Number(parts[3]);
    // A subject is a patient's member id or the supply alert feed.
    if (
      (!MEMBER_ID_PATTERN.test(tokenPatient) && tokenPatient !== SUPPLY_FEED) ||
      !MEMBER_ID_PATTERN.test(member) ||
      mac.length !== 32
    )
      throw new HealthLedgerError('EVENTS_TOKEN_INVALID');
    if (!timingSafeEqual(mac, this.mac(tokenPatient, member, expiresAtMs)))
      throw new HealthLedgerError('EVENTS_TOKEN_INVALID');
    if (this.clock.now() >= expiresAtMs) throw new HealthLedgerError('EVENTS_TOKEN_EXPIRED');
    if (tokenPatient !== patient) throw new HealthLedgerError('EVENTS_TOKEN_WRONG_PATIENT');
    return { expiresAtMs, member };
  }
}
