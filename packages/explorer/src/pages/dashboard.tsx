/** Dashboard: the chain at a glance, updated live (WebSocket, or polling when the socket is unavailable). */
import { client, validators } from "../api";
import { useLoad } from "../hooks";
import { type BlockPoint, useLive } from "../live";
import { Link } from "../router";
import { ago, Fields, Hash, Show, Table, Time } from "../ui";

/** Transactions per second in fixed buckets over the blocks we hold (a bucket with no block is 0). */
function txRate(blocks: readonly BlockPoint[], bucketMs: number): Array<{ t: number; rate: number }> {
  const last = blocks[blocks.length - 1];
  const first = blocks[0];
  if (last === undefined || first === undefined) return [];
  const end = last.timeMs;
  const count = Math.max(1, Math.min(60, Math.ceil((end - first.timeMs) / bucketMs)));
  const buckets = Array.from({ length: count }, (_, i) => ({ t: end - (count - 1 - i) * bucketMs, txs: 0 }));
  for (const b of blocks) {
    const i = count - 1 - Math.floor((end - b.timeMs) / bucketMs);
    const bucket = buckets[i];
    if (bucket !== undefined) bucket.txs += b.txs;
  }
  return buckets.map((b) => ({ t: b.t, rate: b.txs / (bucketMs / 1000) }));
}

function RateChart({ points }: { points: Array<{ t: number; rate: number }> }) {
  const w = 600;
  const h = 140;
  const max = Math.max(1, ...points.map((p) => p.rate));
  const barW = w / Math.max(points.length, 1);
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${w} ${h + 20}`} role="img" aria-label="transactions per second over the last minutes">
        <line x1="0" y1={h} x2={w} y2={h} className="axis" />
        {points.map((p, i) => {
          const bh = (p.rate / max) * (h - 10);
          return (
            <rect key={p.t} x={i * barW + 1} y={h - bh} width={Math.max(1, barW - 2)} height={bh} className="bar">
              <title>{`${p.rate.toFixed(1)} tx/s at ${new Date(p.t).toISOString().slice(11, 19)}`}</title>
            </rect>
          );
        })}
        <text x="4" y="12" className="label">
          {max.toFixed(1)} tx/s
        </text>
        <text x="4" y={h + 16} className="label">
          {`−${points.length * 5} s`}
        </text>
        <text x={w - 4} y={h + 16} className="label" textAnchor="end">
          now
        </text>
      </svg>
      <figcaption>Transactions per second (5 s buckets, last {points.length * 5} s)</figcaption>
    </figure>
  );
}

function rates(blocks: readonly BlockPoint[]): { blockRate: number | null; txRate: number | null; blockTime: number | null } {
  const first = blocks[0];
  const last = blocks[blocks.length - 1];
  if (first === undefined || last === undefined || last.timeMs <= first.timeMs) return { blockRate: null, txRate: null, blockTime: null };
  const seconds = (last.timeMs - first.timeMs) / 1000;
  const txs = blocks.slice(1).reduce((n, b) => n + b.txs, 0);
  const perSecond = (blocks.length - 1) / seconds;
  return { blockRate: perSecond * 60, txRate: txs / seconds, blockTime: seconds / (blocks.length - 1) };
}

export function Dashboard() {
  const live = useLive();
  const status = live.status;
  // Reloaded with each new height, so every validator's last signed height stays current.
  const set = useLoad(() => validators(), [status?.height], { refresh: true });
  const genesis = useLoad(() => client.genesis(), []);
  const r = rates(live.blocks);
  const consensus = status?.consensus;
  const names = new Map<string, string>();
  if (genesis.state === "ok") for (const v of genesis.value.validators) names.set(v.publicKey, v.name);
  if (status === null) {
    return (
      <section>
        <h1>Dashboard</h1>
        {live.error === null ? (
          <p className="muted">Connecting to the node…</p>
        ) : (
          <div className="notice error" role="alert">
            <strong>Node unreachable.</strong> {live.error}. The page keeps trying every second.
          </div>
        )}
      </section>
    );
  }
  return (
    <section>
      <h1>Dashboard</h1>
      {live.error !== null && (
        <div className="notice error" role="alert">
          <strong>Node unreachable.</strong> Showing the last known state; retrying. ({live.error})
        </div>
      )}
      <div className="cards">
        <div className="card">
          <span className="k">Height</span>
          <span className="v" data-testid="height">
            {status.height}
          </span>
          <span className="s">{status.latestTimeMs > 0 ? ago(status.latestTimeMs) : "no block yet"}</span>
        </div>
        <div className="card">
          <span className="k">Block rate</span>
          <span className="v">{r.blockRate === null ? "—" : `${r.blockRate.toFixed(1)}/min`}</span>
          <span className="s">{r.blockTime === null ? "" : `${r.blockTime.toFixed(2)} s per block`}</span>
        </div>
        <div className="card">
          <span className="k">Transactions</span>
          <span className="v">{r.txRate === null ? "—" : `${r.txRate.toFixed(2)} tx/s`}</span>
          <span className="s">over the last {live.blocks.length} blocks</span>
        </div>
        <div className="card">
          <span className="k">Validators</span>
          <span className="v">{status.validators}</span>
          <span className="s">{consensus?.peers === undefined ? "single validator" : `${consensus.peers} peers linked`}</span>
        </div>
      </div>
      <div className="grid2">
        <div>
          <h2>Chain</h2>
          <Fields
            rows={[
              ["Chain id", <code key="c">{status.chainId}</code>],
              ["Crypto suite", status.crypto === "sm2" ? "SM2 signatures, SM3 hashing" : "Ed25519 signatures, SHA-256 hashing"],
              ["Genesis hash", <Hash key="g" value={status.genesisHash} />],
              ["Latest block", <Hash key="l" value={status.latestHash} to={`/blocks/${status.height}`} />],
              ["Latest time", status.latestTimeMs > 0 ? <Time key="t" ms={status.latestTimeMs} /> : "—"],
              ["Node", `${status.node} (v${status.version})`],
              ["Role", consensus?.role ?? "validator (single-validator chain)"],
              ...(consensus === undefined
                ? []
                : ([
                    ["Consensus", `height ${consensus.height ?? "?"}, round ${consensus.round ?? 0}, ${consensus.step ?? "?"}`],
                    ["Peers", String(consensus.peers ?? 0)],
                    ["Syncing", consensus.syncing ? "yes" : "no"],
                  ] as const)),
              [
                "Live updates",
                live.transport === "websocket" ? "WebSocket" : live.transport === "polling" ? "polling every second" : live.transport,
              ],
              ["Modules", status.modules.join(", ")],
            ]}
          />
        </div>
        <div>
          <h2>Throughput</h2>
          {live.blocks.length < 2 ? <p className="muted">Waiting for blocks…</p> : <RateChart points={txRate(live.blocks, 5_000)} />}
        </div>
      </div>
      <h2>Validators</h2>
      <Show data={set} what="validators">
        {(v) => (
          <Table head={["#", "Name", "Public key", "Power", "Share", "Last signed"]}>
            {v.validators.map((val, i) => {
              return (
                <tr key={val.publicKey}>
                  <td>{i}</td>
                  <td>{names.get(val.publicKey) ?? "—"}</td>
                  <td>
                    <Hash value={val.publicKey} />
                  </td>
                  <td>{val.power}</td>
                  <td>{((val.power / v.totalPower) * 100).toFixed(1)}%</td>
                  <td>
                    {val.lastSignedHeight === null ? (
                      <span className="muted">not in the last 256 blocks</span>
                    ) : (
                      <Link to={`/blocks/${val.lastSignedHeight}`}>{val.lastSignedHeight}</Link>
                    )}
                  </td>
                </tr>
              );
            })}
          </Table>
        )}
      </Show>
      <h2>Recent blocks</h2>
      <Table head={["Height", "Hash", "Txs", "Time"]}>
        {[...live.blocks]
          .reverse()
          .slice(0, 8)
          .map((b) => (
            <tr key={b.height}>
              <td>
                <Link to={`/blocks/${b.height}`}>{b.height}</Link>
              </td>
              <td>
                <Hash value={b.hash} />
              </td>
              <td>{b.txs}</td>
              <td>{ago(b.timeMs)}</td>
            </tr>
          ))}
      </Table>
    </section>
  );
}
