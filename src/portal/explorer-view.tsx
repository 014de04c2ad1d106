/**
 * The explorer for auditors and operators: node health, the latest checkpoint (signature checked
 * here), blocks and their transactions with validation codes, a consistency check between two
 * checkpoints (proof verified here), and the consortium's organizations and nodes.
 * @module
 */
import { useEffect, useState, type FormEvent } from 'react';
import type { Block, BlockHeader, SignedCheckpoint } from '../protocol/block.js';
import type { AttestationsWire } from '../sdk/client.js';
import { errorText, explain, fmtTime, orgName, useSession } from './session.js';

export function ExplorerView() {
  const s = useSession();
  const [health, setHealth] = useState<Record<string, unknown> | null>(null);
  const [checkpoint, setCheckpoint] = useState<SignedCheckpoint | null>(null);
  const [blocks, setBlocks] = useState<{ header: BlockHeader; hash: string }[]>([]);
  const [block, setBlock] = useState<Block | null>(null);
  const [consistency, setConsistency] = useState<string | null>(null);
  const [attestations, setAttestations] = useState<AttestationsWire | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    void (async () => {
      try {
        const h = await s.client.nodeHealth();
        setHealth(h);
        setCheckpoint(await s.client.latestCheckpoint());
        const height = h.head.height;
        const list = await s.client.blocks(Math.max(1, height - 19), 20);
        setBlocks(list.blocks.reverse());
        if (height > 0) setAttestations(await s.client.attestations(height));
      } catch (e) {
        setError(errorText(e));
      }
    })();
  }, [s]);

  const check = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    void (async () => {
      try {
        const from = Number(f.get('from'));
        const to = Number(f.get('to'));
        await s.client.verifiedConsistency(from, to);
        setConsistency(
          `✓ Consistent: the log of ${from} entries is a prefix of the log of ${to} (proof verified here).`,
        );
      } catch (err) {
        setConsistency(`✗ ${errorText(err)}`);
      }
    })();
  };

  const head = health?.['head'] as { height: number; logSize: number } | undefined;
  return (
    <section aria-labelledby="explorer-title" className="stack">
      <h1 id="explorer-title">Ledger explorer</h1>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <div className="tiles">
        <div className="card tile">
          <h2>Node</h2>
          <p className={health?.['status'] === 'ok' ? 'ok' : 'error'}>{String(health?.['status'] ?? '…')}</p>
          <p className="muted">{String(health?.['nodeId'] ?? '')}</p>
        </div>
        <div className="card tile">
          <h2>Height</h2>
          <p className="big">{head?.height ?? '…'}</p>
          <p className="muted">{head?.logSize ?? '…'} transactions</p>
        </div>
        <div className="card tile">
          <h2>Checkpoint</h2>
          {checkpoint ? (
            <>
              <p className="badge verified">✓ Signature verified</p>
              <p className="muted mono">
                size {checkpoint.checkpoint.logSize} · root {checkpoint.checkpoint.logRoot.slice(0, 16)}…
              </p>
            </>
          ) : (
            <p>…</p>
          )}
        </div>
      </div>

      <article className="card" aria-labelledby="blocks-title">
        <h2 id="blocks-title">Latest blocks</h2>
        <table>
          <thead>
            <tr>
              <th scope="col">Height</th>
              <th scope="col">Time</th>
              <th scope="col">Transactions</th>
              <th scope="col">Hash</th>
            </tr>
          </thead>
          <tbody>
            {blocks.map((b) => (
              <tr key={b.header.height}>
                <td>
                  <button
                    className="link"
                    onClick={() => void s.client.block(b.header.height).then(setBlock)}
                  >
                    {b.header.height}
                  </button>
                </td>
                <td>{fmtTime(b.header.timestampMs)}</td>
                <td>{b.header.txCount}</td>
                <td className="mono">{b.hash.slice(0, 16)}…</td>
              </tr>
            ))}
          </tbody>
        </table>
      </article>

      {block && (
        <article className="card" aria-labelledby="block-title">
          <h2 id="block-title">Block {block.header.height}</h2>
          <table>
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">Type</th>
                <th scope="col">Signer</th>
                <th scope="col">Validation code</th>
              </tr>
            </thead>
            <tbody>
              {block.txs.map((t, i) => (
                <tr key={i}>
                  <td>{i}</td>
                  <td className="mono">{t.body.type}</td>
                  <td>{t.body.signer}</td>
                  <td
                    title={explain(block.codes[i] ?? '')}
                    className={block.codes[i] === 'VALID' ? 'ok' : 'error'}
                  >
                    {block.codes[i]}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </article>
      )}

      <form className="card grid" onSubmit={check} aria-labelledby="consistency-title">
        <h2 id="consistency-title">Consistency between two checkpoints</h2>
        <label>
          Earlier log size
          <input name="from" type="number" min={1} defaultValue={1} required />
        </label>
        <label>
          Later log size
          <input
            name="to"
            type="number"
            min={1}
            defaultValue={head?.logSize ?? 1}
            key={head?.logSize}
            required
          />
        </label>
        <button type="submit">Check consistency</button>
        {consistency && (
          <p role="status" className={consistency.startsWith('✓') ? 'ok' : 'error'}>
            {consistency}
          </p>
        )}
      </form>

      <article className="card" aria-labelledby="attest-title">
        <h2 id="attest-title">Attestations of block {attestations?.height ?? '…'}</h2>
        {attestations && attestations.attestations.length === 0 ? (
          <p className="muted">
            This node orders alone (one organization): attestations appear when several organizations run
            nodes.
          </p>
        ) : (
          <ul className="list" aria-label="Attestations">
            {attestations?.attestations.map((a) => {
              const agrees =
                blocks[0] !== undefined &&
                a.stateRoot === blocks[0].header.stateRoot &&
                a.logRoot === blocks[0].header.logRoot;
              return (
                <li key={a.nodeId}>
                  <div>
                    <strong>{a.nodeId}</strong>{' '}
                    <span className="muted mono">
                      state {a.stateRoot.slice(0, 12)}… · log {a.logRoot.slice(0, 12)}…
                    </span>
                  </div>
                  <span className={`badge ${agrees ? 'verified' : 'failed'}`}>
                    {agrees ? '✓ Signed, agrees' : '✗ Differs'}
                  </span>
                </li>
              );
            })}
          </ul>
        )}
        {attestations?.status && (
          <p className={attestations.status.divergedAt === null ? 'muted' : 'error'}>
            {attestations.status.divergedAt === null
              ? `Confirmed by a quorum of organizations up to block ${attestations.status.confirmedHeight}.`
              : attestations.status.reason}
          </p>
        )}
      </article>

      <article className="card" aria-labelledby="orgs-title">
        <h2 id="orgs-title">Organizations and their nodes</h2>
        <ul className="list">
          {s.genesis.orgs.map((o) => (
            <li key={o.id}>
              <div>
                <strong>{orgName(s.genesis, o.id)}</strong>{' '}
                <span className="muted">
                  ({o.id}) · {o.nodes.map((n) => n.id).join(', ') || 'no node'}
                  {checkpoint && o.nodes.some((n) => n.id === checkpoint.checkpoint.nodeId)
                    ? ' · signed the latest checkpoint'
                    : ''}
                </span>
              </div>
            </li>
          ))}
        </ul>
        <p className="muted">
          Genesis {s.genesisHash.slice(0, 16)}… — compare it with your organization's copy.
        </p>
      </article>
    </section>
  );
}
