import { Bar, BarChart, CartesianGrid, Cell, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { ChartScale } from '../state/store';
import { COLORS } from './chartColors';

export interface LayerPoint {
  layer: number;
  value: number | null;
  flagged: boolean;
}

interface Props {
  title: string;
  points: LayerPoint[];
  scale: ChartScale;
  selected: number | null;
  onSelect(layer: number): void;
  testId: string;
}

/** One bar per layer, flagged layers in red; click a bar to open that layer. Log scale plots |value|. */
export function LayerChart({ title, points, scale, selected, onSelect, testId }: Props) {
  const data = points.map((p) => ({
    layer: p.layer,
    flagged: p.flagged,
    value: p.value === null ? null : scale === 'log' ? Math.max(Math.abs(p.value), 1e-12) : p.value,
  }));
  return (
    <figure className="chart" data-testid={testId}>
      <figcaption>
        {title}
        {scale === 'log' ? ' (log scale, |value|)' : ''}
      </figcaption>
      <ResponsiveContainer width="100%" height={220}>
        <BarChart data={data} margin={{ top: 8, right: 16, bottom: 16, left: 16 }}>
          <CartesianGrid stroke={COLORS.grid} vertical={false} />
          <XAxis dataKey="layer" label={{ value: 'layer', position: 'insideBottom', offset: -8 }} />
          <YAxis scale={scale === 'log' ? 'log' : 'auto'} domain={scale === 'log' ? ['auto', 'auto'] : [0, 'auto']} allowDataOverflow width={80} tickFormatter={(v: number) => formatTick(v)} />
          <Tooltip formatter={(v) => (typeof v === 'number' ? v.toPrecision(4) : String(v))} labelFormatter={(l) => `layer ${l}`} />
          <Bar dataKey="value" isAnimationActive={false} onClick={(d: { payload?: { layer?: number } }) => d.payload?.layer !== undefined && onSelect(d.payload.layer)}>
            {data.map((d) => (
              <Cell key={d.layer} cursor="pointer" fill={d.flagged ? COLORS.flagged : COLORS.normal} stroke={d.layer === selected ? '#000' : 'none'} strokeWidth={2} />
            ))}
          </Bar>
        </BarChart>
      </ResponsiveContainer>
    </figure>
  );
}

function formatTick(v: number): string {
  if (v === 0) return '0';
  return Math.abs(v) >= 0.01 && Math.abs(v) < 1000 ? String(Number(v.toPrecision(3))) : v.toExponential(1);
}
