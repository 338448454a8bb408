/**
 * A small bar chart of counts per time bucket, drawn as SVG (no chart library: a few rects).
 * Each series is one colour; bars of one bucket stack. It carries a text summary for screen
 * readers (role="img" + aria-label) and a legend.
 */
export interface ChartSeries {
  label: string;
  color: string;
  values: number[];
}

export function stackMax(series: ChartSeries[]): number {
  const n = Math.max(0, ...series.map((s) => s.values.length));
  let max = 0;
  for (let i = 0; i < n; i++) max = Math.max(max, series.reduce((a, s) => a + (s.values[i] ?? 0), 0));
  return max;
}

export default function Chart({ title, series, start, bucketS }: { title: string; series: ChartSeries[]; start: number; bucketS: number }) {
  const n = Math.max(0, ...series.map((s) => s.values.length));
  const max = Math.max(1, stackMax(series));
  const W = 600;
  const H = 100;
  const bw = n ? W / n : W;
  const totals = series.map((s) => `${s.label} ${s.values.reduce((a, b) => a + b, 0)}`).join(", ");
  const fmt = (t: number) => new Date(t * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  return (
    <figure className="chart" style={{ margin: 0 }}>
      <div className="chart-frame">
        <span className="chart-max" aria-hidden="true">
          {max}
        </span>
        {/* the bars stretch to the card (preserveAspectRatio none); the labels are HTML so they stay readable */}
        <svg viewBox={`0 0 ${W} ${H}`} preserveAspectRatio="none" role="img" aria-label={`${title}: ${totals} in the last ${Math.round((n * bucketS) / 60)} minutes`}>
          {Array.from({ length: n }, (_, i) => {
            let y = H;
            return series.map((s) => {
              const v = s.values[i] ?? 0;
              if (!v) return null;
              const h = (v / max) * (H - 2);
              y -= h;
              return <rect key={`${s.label}-${i}`} x={i * bw + 0.5} y={y} width={Math.max(1, bw - 1)} height={h} fill={s.color} />;
            });
          })}
        </svg>
      </div>
      <div className="chart-axis" aria-hidden="true">
        <span>{fmt(start)}</span>
        <span>now</span>
      </div>
      <figcaption className="legend">
        {series.map((s) => (
          <span key={s.label}>
            <i style={{ background: s.color }} />
            {s.label}: {s.values.reduce((a, b) => a + b, 0)}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}
