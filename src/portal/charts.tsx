/**
 * Small accessible SVG charts (no chart library, nothing fetched): each has a text summary for
 * screen readers and a data table behind a disclosure.
 * @module
 */

export interface Point {
  label: string;
  value: number;
}

/** Vertical bars, e.g. accesses per day. */
export function BarChart(props: { title: string; points: Point[]; unit: string }) {
  const { points } = props;
  const max = Math.max(1, ...points.map((p) => p.value));
  const w = 320;
  const h = 140;
  const bw = points.length ? Math.min(48, Math.max(4, Math.floor((w - 20) / points.length) - 4)) : 0;
  const summary = `${props.title}: ${points.map((p) => `${p.label} ${p.value} ${props.unit}`).join(', ') || 'no data'}`;
  return (
    <figure className="chart">
      <figcaption>{props.title}</figcaption>
      <svg viewBox={`0 0 ${w} ${h + 24}`} role="img" aria-label={summary}>
        {points.map((p, i) => {
          const bh = Math.round((p.value / max) * h);
          const x = 10 + i * (bw + 4);
          return (
            <g key={p.label}>
              <rect x={x} y={h - bh} width={bw} height={bh} rx={2} className="bar" />
              <text x={x + bw / 2} y={h + 16} textAnchor="middle" className="tick">
                {p.label}
              </text>
              <text x={x + bw / 2} y={h - bh - 4} textAnchor="middle" className="tick">
                {p.value}
              </text>
            </g>
          );
        })}
      </svg>
      <DataTable points={points} unit={props.unit} />
    </figure>
  );
}

/** A line over time, e.g. a glucose series, with an optional target band. */
export function LineChart(props: { title: string; points: Point[]; unit: string; band?: [number, number] }) {
  const { points } = props;
  const w = 320;
  const h = 140;
  const values = points.map((p) => p.value);
  const lo = Math.min(...values, props.band?.[0] ?? Infinity) * 0.9;
  const hi = Math.max(...values, props.band?.[1] ?? -Infinity) * 1.1;
  const y = (v: number) => h - ((v - lo) / Math.max(1e-9, hi - lo)) * h;
  const x = (i: number) => 10 + (points.length <= 1 ? 0 : (i * (w - 20)) / (points.length - 1));
  const d = points
    .map((p, i) => `${i === 0 ? 'M' : 'L'}${x(i).toFixed(1)},${y(p.value).toFixed(1)}`)
    .join(' ');
  const summary = `${props.title}: ${points.map((p) => `${p.label} ${p.value} ${props.unit}`).join(', ') || 'no data'}`;
  return (
    <figure className="chart">
      <figcaption>{props.title}</figcaption>
      <svg viewBox={`0 0 ${w} ${h + 24}`} role="img" aria-label={summary}>
        {props.band && (
          <rect
            x={0}
            y={y(props.band[1])}
            width={w}
            height={Math.max(0, y(props.band[0]) - y(props.band[1]))}
            className="band"
          />
        )}
        {props.band && (
          <>
            <text x={w - 2} y={y(props.band[1]) - 3} textAnchor="end" className="tick">
              {props.band[1]}
            </text>
            <text x={w - 2} y={y(props.band[0]) + 11} textAnchor="end" className="tick">
              {props.band[0]}
            </text>
          </>
        )}
        <path d={d} className="line" fill="none" />
        {points.map((p, i) => (
          <circle key={`${p.label}-${i}`} cx={x(i)} cy={y(p.value)} r={3.5} className="dot" />
        ))}
        {points.length > 0 && (
          <>
            <text x={10} y={h + 16} className="tick">
              {points[0]!.label}
            </text>
            <text x={w - 10} y={h + 16} textAnchor="end" className="tick">
              {points[points.length - 1]!.label}
            </text>
          </>
        )}
      </svg>
      <DataTable points={points} unit={props.unit} />
    </figure>
  );
}

function DataTable(props: { points: Point[]; unit: string }) {
  return (
    <details>
      <summary>Show data</summary>
      <table>
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Value ({props.unit})</th>
          </tr>
        </thead>
        <tbody>
          {props.points.map((p, i) => (
            <tr key={`${p.label}-${i}`}>
              <td>{p.label}</td>
              <td>{p.value}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}
