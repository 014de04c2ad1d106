/**
 * Webhook subscription secrets at rest (ADR 0015): stored in `data/subscriptions.sqlite` as
 * `sealed:<base64url>` under the node's KEK, the subscription id bound as additional data.
 * Subscriptions stored before sealing (the secret in clear) are sealed on the first start with a
 * KEK. Without a sealer, secrets are stored as given (an unsealed home).
 * @module
 */
import { fromBase64Url, toBase64Url } from '../../protocol/bytes.js';
import type { Database as Db } from 'better-sqlite3';
import { KEK_ENV, SealError, type Sealer } from '../sealer.js';

const PREFIX = 'sealed:';
const purpose = (id: string): string => `webhook-secret|${id}`;

/** Seals and unseals a subscription's secret as stored in its row (see `WebhookOptions.secrets`). */
export interface WebhookSecrets {
  seal(id: string, secret: string): string;
  unseal(id: string, stored: string): string;
}

export function webhookSecrets(sealer: Sealer | null): WebhookSecrets {
  return {
    seal: (id, secret) =>
      sealer === null ? secret : PREFIX + toBase64Url(sealer.seal(purpose(id), Buffer.from(secret, 'utf8'))),
    unseal(id, stored) {
      if (!stored.startsWith(PREFIX)) return stored;
      if (sealer === null)
        throw new SealError(
          'SEAL_KEK_MISSING',
          `data/subscriptions.sqlite holds sealed webhook secrets but no key-encryption key is ` +
            `configured: set "seal" in node.json (pkcs11 or keyFile) or ${KEK_ENV}`,
        );
      const bytes = sealer.unseal(purpose(id), fromBase64Url(stored.slice(PREFIX.length)));
      return Buffer.from(bytes).toString('utf8');
    },
  };
}

/** Seals the secrets a store from before sealing kept in clear; old cells are zeroed. */
export function sealStoredWebhookSecrets(db: Db, sealer: Sealer | null): void {
  if (sealer === null) return;
  const rows = db.prepare('SELECT id, secret FROM subscriptions').all() as { id: string; secret: string }[];
  const clear = rows.filter((r) => !r.secret.startsWith(PREFIX));
  if (clear.length === 0) return;
  const s = webhookSecrets(sealer);
  db.pragma('secure_delete = ON');
  const update = db.prepare('UPDATE subscriptions SET secret = ? WHERE id = ?');
  db.transaction(() => {
    for (const r of clear) update.run(s.seal(r.id, r.secret), r.id);
  })();
  db.pragma('wal_checkpoint(TRUNCATE)');
}
