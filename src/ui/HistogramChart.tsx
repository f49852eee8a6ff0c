import { Bar, BarChart, CartesianGrid, Cell, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { COLORS } from './chartColors';

/** Histogram bars coloured by the sign of the bin's centre: the paper's two directions (Fig. 2). */
export function HistogramChart({ title, histogram, testId }: { title: string; histogram: { edges: number[]; counts: number[]; clipped?: number }; testId: string }) {
  const data = histogram.counts.map((count, i) => {
    const lo = histogram.edges[i] ?? 0;
    const hi = histogram.edges[i + 1] ?? lo;
    return { centre: (lo + hi) / 2, count };
  });
  return (
    <figure className="chart" data-testid={testId}>
      <figcaption>{title}</figcaption>
      <ResponsiveContainer width="100%" height={200}>
        <BarChart data={data} margin={{ top: 8, right: 16, bottom: 16, left: 8 }} barCategoryGap={0}>
          <CartesianGrid stroke={COLORS.grid} vertical={false} />
          <XAxis dataKey="centre" tickFormatter={(v: number) => v.toFixed(3)} label={{ value: 'entry of u', position: 'insideBottom', offset: -8 }} />
          <YAxis allowDecimals={false} width={48} />
          <Tooltip formatter={(v) => String(v)} labelFormatter={(l) => `u ≈ ${Number(l).toFixed(4)}`} />
          <Bar dataKey="count" isAnimationActive={false}>
            {data.map((d) => (
              <Cell key={d.centre} fill={d.centre >= 0 ? COLORS.positive : COLORS.negative} />
            ))}
          </Bar>
        </BarChart>
      </ResponsiveContainer>
      <p className="legend">
        <span className="swatch" style={{ background: COLORS.positive }} /> positive entries <span className="swatch" style={{ background: COLORS.negative }} /> negative entries
        {histogram.clipped ? ` · ${histogram.clipped} extreme entr${histogram.clipped === 1 ? 'y' : 'ies'} counted in the end bins` : ''}
      </p>
    </figure>
  );
}
