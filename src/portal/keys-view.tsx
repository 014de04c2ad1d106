/**
 * Keys a person can live with: unlock a vault kept in this browser with a passphrase; bring in the
 * identity files an organization issued; create a new key pair here (only the public key leaves,
 * for the organization to certify); download an encrypted backup and restore it.
 * @module
 */
import { useState, type FormEvent } from 'react';
import {
  createKeys,
  forgetVault,
  fromIdentityFiles,
  openVault,
  sealVault,
  signingPublicKey,
  storeVault,
  storedVaults,
  type SealedVault,
  type VaultContents,
} from './vault.js';

const readFile = (f: File | undefined): Promise<string | undefined> =>
  f ? f.text() : Promise.resolve(undefined);

/** Offers a sealed vault as a file download. */
export function downloadBackup(v: SealedVault): void {
  const url = URL.createObjectURL(new Blob([JSON.stringify(v, null, 2)], { type: 'application/json' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = `healthledger-${v.memberId.replace('/', '_')}.vault.json`;
  a.click();
  URL.revokeObjectURL(url);
}

export function KeysView(props: { onUnlock: (v: VaultContents) => void }) {
  const [vaults, setVaults] = useState(storedVaults());
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<{ contents: VaultContents; sealed: SealedVault } | null>(null);

  const run = async (f: () => Promise<void>) => {
    setError(null);
    setBusy(true);
    try {
      await f();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };

  const unlock = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const sealed = vaults.find((v) => v.memberId === form.get('memberId'));
    void run(async () => {
      if (!sealed) throw new Error('Choose an identity.');
      props.onUnlock(await openVault(sealed, String(form.get('passphrase'))));
    });
  };

  const importFiles = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    void run(async () => {
      const id = await readFile(form.get('identity') as File | undefined);
      if (!id) throw new Error('Choose your identity file.');
      const enc = await readFile((form.get('encryption') as File | null) ?? undefined);
      const contents = fromIdentityFiles(id, enc && enc.length > 0 ? enc : undefined);
      const sealed = await sealVault(contents, String(form.get('passphrase')));
      storeVault(sealed);
      setVaults(storedVaults());
      props.onUnlock(contents);
    });
  };

  const create = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    void run(async () => {
      const memberId = String(form.get('memberId'));
      if (!/^[a-z0-9][a-z0-9._-]{0,63}\/[a-z0-9][a-z0-9._-]{0,63}$/.test(memberId))
        throw new Error('Member id as organization/name, e.g. st-mary/p-7f3a.');
      const contents = await createKeys(memberId);
      const sealed = await sealVault(contents, String(form.get('passphrase')));
      storeVault(sealed);
      setVaults(storedVaults());
      setCreated({ contents, sealed });
    });
  };

  const restore = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    void run(async () => {
      const text = await readFile(form.get('backup') as File | undefined);
      if (!text) throw new Error('Choose a backup file.');
      const sealed = JSON.parse(text) as SealedVault;
      await openVault(sealed, String(form.get('passphrase')));
      storeVault(sealed);
      setVaults(storedVaults());
    });
  };

  return (
    <section aria-labelledby="keys-title" className="stack">
      <h1 id="keys-title">Your keys</h1>
      <p className="lede">
        Your keys stay in this browser, encrypted with your passphrase. HealthLedger never receives them:
        every request you make is signed here.
      </p>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {vaults.length > 0 && (
        <form className="card" onSubmit={unlock} aria-labelledby="unlock-title">
          <h2 id="unlock-title">Unlock</h2>
          <label>
            Identity
            <select name="memberId" defaultValue={vaults[0]?.memberId}>
              {vaults.map((v) => (
                <option key={v.memberId} value={v.memberId}>
                  {v.memberId}
                </option>
              ))}
            </select>
          </label>
          <label>
            Passphrase
            <input name="passphrase" type="password" autoComplete="current-password" required />
          </label>
          <div className="row">
            <button type="submit" disabled={busy}>
              Unlock
            </button>
            <button
              type="button"
              className="secondary"
              onClick={() => {
                const v = vaults.find(
                  (x) =>
                    x.memberId ===
                    (document.querySelector('select[name=memberId]') as HTMLSelectElement)?.value,
                );
                if (v) downloadBackup(v);
              }}
            >
              Download encrypted backup
            </button>
            <button
              type="button"
              className="ghost"
              onClick={() => {
                const id = (document.querySelector('select[name=memberId]') as HTMLSelectElement)?.value;
                if (id && confirm(`Forget ${id} in this browser? Keep a backup first.`)) {
                  forgetVault(id);
                  setVaults(storedVaults());
                }
              }}
            >
              Forget in this browser
            </button>
          </div>
        </form>
      )}
      <form className="card" onSubmit={importFiles} aria-labelledby="import-title">
        <h2 id="import-title">Use identity files from your organization</h2>
        <label>
          Identity file (<code>.json</code>)
          <input name="identity" type="file" accept=".json,application/json" required />
        </label>
        <label>
          Record key file (<code>.enc.json</code>, optional)
          <input name="encryption" type="file" accept=".json,application/json" />
        </label>
        <label>
          New passphrase for this browser
          <input name="passphrase" type="password" autoComplete="new-password" minLength={8} required />
        </label>
        <button type="submit" disabled={busy}>
          Import and unlock
        </button>
      </form>
      <form className="card" onSubmit={create} aria-labelledby="create-title">
        <h2 id="create-title">Create a new key</h2>
        <label>
          Member id your organization gave you
          <input name="memberId" placeholder="st-mary/p-7f3a" required />
        </label>
        <label>
          Passphrase
          <input name="passphrase" type="password" autoComplete="new-password" minLength={8} required />
        </label>
        <button type="submit" disabled={busy}>
          Create key
        </button>
        {created && (
          <div className="notice" role="status">
            <p>
              Key created and saved, encrypted. Give your organization this public key to enroll you (it is
              not secret):
            </p>
            <pre className="mono">{`healthledger identity enroll <home> --id ${created.contents.memberId.split('/')[1]} --role patient --public-key ${signingPublicKey(created.contents)}`}</pre>
            <button type="button" onClick={() => downloadBackup(created.sealed)}>
              Download encrypted backup
            </button>
          </div>
        )}
      </form>
      <form className="card" onSubmit={restore} aria-labelledby="restore-title">
        <h2 id="restore-title">Restore a backup</h2>
        <label>
          Backup file
          <input name="backup" type="file" accept=".json,application/json" required />
        </label>
        <label>
          Its passphrase
          <input name="passphrase" type="password" autoComplete="current-password" required />
        </label>
        <button type="submit" disabled={busy}>
          Restore
        </button>
      </form>
    </section>
  );
}
