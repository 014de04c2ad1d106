/**
 * The portal's entry and shell: connect to the node, unlock keys, then the views a person's role
 * needs — patients their health, clinicians their patients, everyone the explorer.
 * @module
 */
import { StrictMode, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import './styles.css';
import { ClinicianView } from '../domains/health/portal/clinician-view.js';
import { ExplorerView } from './explorer-view.js';
import { KeysView } from './keys-view.js';
import { PatientView } from '../domains/health/portal/patient-view.js';
import { SessionContext, connect, errorText, orgName, type Session } from './session.js';
import { identityOf, type VaultContents } from './vault.js';

type Tab = 'patient' | 'clinician' | 'explorer' | 'keys';

function App() {
  const [base, setBase] = useState<Omit<Session, 'vault' | 'identity' | 'member'> | null>(null);
  const [vault, setVault] = useState<VaultContents | null>(null);
  const [member, setMember] = useState<Session['member']>(null);
  const [tab, setTab] = useState<Tab>('keys');
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    connect().then(setBase, (e: unknown) => setError(errorText(e)));
  }, []);

  const unlock = async (v: VaultContents) => {
    setVault(v);
    try {
      const m = (await base!.client.member(v.memberId)) as {
        role: string;
        org: string;
        attributes: Record<string, string>;
      };
      setMember({ role: m.role, org: m.org, attributes: m.attributes });
      setTab(m.role === 'patient' ? 'patient' : m.role === 'practitioner' ? 'clinician' : 'explorer');
    } catch (e) {
      setError(`${v.memberId} is not enrolled on this ledger yet (${errorText(e)}).`);
      setTab('explorer');
    }
  };

  if (!base) return <main className="shell">{error ? <p role="alert">{error}</p> : <p>Connecting…</p>}</main>;
  const session: Session = { ...base, vault, identity: vault ? identityOf(vault) : null, member };
  const tabs: [Tab, string][] = [
    ...(member?.role === 'patient' ? ([['patient', 'My health']] as [Tab, string][]) : []),
    ...(member?.role === 'practitioner' ? ([['clinician', 'Patients']] as [Tab, string][]) : []),
    ['explorer', 'Explorer'],
    ['keys', vault ? 'Keys' : 'Sign in'],
  ];
  return (
    <SessionContext.Provider value={session}>
      <header className="topbar">
        <span className="brand" aria-label="HealthLedger">
          ◆ HealthLedger
        </span>
        <nav aria-label="Views">
          {tabs.map(([id, label]) => (
            <button
              key={id}
              className={tab === id ? 'tab active' : 'tab'}
              aria-current={tab === id ? 'page' : undefined}
              onClick={() => setTab(id)}
            >
              {label}
            </button>
          ))}
        </nav>
        {vault && (
          <span
            className="who"
            title={member ? `${member.role} at ${orgName(base.genesis, member.org)}` : ''}
          >
            {vault.memberId}
            <button className="ghost" onClick={() => (setVault(null), setMember(null), setTab('keys'))}>
              Lock
            </button>
          </span>
        )}
      </header>
      <main className="shell">
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
        {tab === 'keys' && !vault && <KeysView onUnlock={(v) => void unlock(v)} />}
        {tab === 'keys' && vault && (
          <section className="stack">
            <h1>Signed in as {vault.memberId}</h1>
            <p className="lede">
              Your keys are unlocked in this tab only. Lock to forget them; your encrypted vault stays in this
              browser.
            </p>
          </section>
        )}
        {tab === 'patient' && vault && <PatientView />}
        {tab === 'clinician' && vault && <ClinicianView />}
        {tab === 'explorer' && <ExplorerView />}
      </main>
    </SessionContext.Provider>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
