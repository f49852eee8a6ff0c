import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { COLORS } from './chartColors';

export function SingularValueChart({ sigma, testId }: { sigma: number[]; testId: string }) {
  const data = sigma.map((value, i) => ({ index: i + 1, value }));
  return (
    <figure className="chart" data-testid={testId}>
      <figcaption>Top {sigma.length} singular values</figcaption>
      <ResponsiveContainer width="100%" height={200}>
        <BarChart data={data} margin={{ top: 8, right: 16, bottom: 16, left: 8 }}>
          <CartesianGrid stroke={COLORS.grid} vertical={false} />
          <XAxis dataKey="index" label={{ value: 'i', position: 'insideBottom', offset: -8 }} />
          <YAxis width={64} tickFormatter={(v: number) => v.toPrecision(3)} />
          <Tooltip formatter={(v) => (typeof v === 'number' ? v.toPrecision(5) : String(v))} labelFormatter={(l) => `σ${l}`} />
          <Bar dataKey="value" fill={COLORS.normal} isAnimationActive={false} />
        </BarChart>
      </ResponsiveContainer>
    </figure>
  );
}
