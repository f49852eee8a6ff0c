import { Bar, BarChart, CartesianGrid, Cell, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { ChartScale } from '../state/store';
import { COLORS } from './chartColors';
import type { Term } from './glossary';
import { TermLabel } from './TermLabel';

export interface LayerPoint {
  layer: number;
  value: number | null;
  flagged: boolean;
}

interface Props {
  title: string;
  term: Term;
  points: LayerPoint[];
  scale: ChartScale;
  selected: number | null;
  onSelect(layer: number): void;
  testId: string;
}

/**
 * The log axis: whole decades from one below the smallest value's to the largest's, so every bar has a
 * visible height (a value near the floor would be a sliver) and the tallest stays under the top tick.
 */
export function logDomain(values: readonly number[]): { domain: [number, number]; ticks: number[] } {
  const positive = values.filter((v) => v > 0 && Number.isFinite(v));
  if (positive.length === 0) return { domain: [1e-3, 1], ticks: [1e-3, 1e-2, 1e-1, 1] };
  const lo = Math.floor(Math.log10(Math.min(...positive) / 2));
  const hi = Math.max(lo + 1, Math.ceil(Math.log10(Math.max(...positive))));
  const ticks = Array.from({ length: hi - lo + 1 }, (_, i) => 10 ** (lo + i));
  return { domain: [10 ** lo, 10 ** hi], ticks };
}

/**
 * One bar per layer, flagged layers in red; a click, or Enter / Space on a focused bar, opens that layer.
 * Log scale plots |value| on whole decades.
 */
export function LayerChart({ title, term, points, scale, selected, onSelect, testId }: Props) {
  const data = points.map((p) => ({
    layer: p.layer,
    flagged: p.flagged,
    value: p.value === null ? null : scale === 'log' ? Math.max(Math.abs(p.value), 1e-12) : p.value,
  }));
  const log = scale === 'log' ? logDomain(data.map((d) => d.value ?? 0)) : null;
  return (
    <figure className="chart" data-testid={testId}>
      <figcaption>
        <TermLabel term={term}>{title}</TermLabel>
        {scale === 'log' ? ' (log scale, |value|)' : ''}
      </figcaption>
      <ResponsiveContainer width="100%" height={220}>
        <BarChart data={data} margin={{ top: 8, right: 16, bottom: 16, left: 16 }} baseValue={log ? log.domain[0] : 0}>
          <CartesianGrid stroke={COLORS.grid} vertical={false} />
          <XAxis dataKey="layer" label={{ value: 'layer', position: 'insideBottom', offset: -8 }} interval={0} minTickGap={0} />
          {log ? (
            <YAxis scale="log" domain={log.domain} ticks={log.ticks} allowDataOverflow width={80} tickFormatter={formatTick} />
          ) : (
            <YAxis domain={[0, 'auto']} width={80} tickFormatter={formatTick} />
          )}
          <Tooltip formatter={(v) => (typeof v === 'number' ? v.toPrecision(4) : String(v))} labelFormatter={(l) => `layer ${l}`} />
          <Bar
            dataKey="value"
            isAnimationActive={false}
            onClick={(d: { payload?: { layer?: number } }) => d.payload?.layer !== undefined && onSelect(d.payload.layer)}
            shape={(props: { x?: number; y?: number; width?: number; height?: number; fill?: string; stroke?: string; payload?: { layer: number; value: number | null; flagged: boolean } }) => {
              const p = props.payload;
              if (!p) return <g />;
              const open = (e: React.KeyboardEvent) => {
                if (e.key === 'Enter' || e.key === ' ') {
                  e.preventDefault();
                  onSelect(p.layer);
                }
              };
              return (
                <rect
                  x={props.x}
                  y={props.y}
                  width={props.width}
                  height={Math.max(0, props.height ?? 0)}
                  fill={props.fill}
                  stroke={props.stroke}
                  strokeWidth={2}
                  cursor="pointer"
                  tabIndex={0}
                  role="button"
                  aria-label={`layer ${p.layer}: ${p.value === null ? 'no value' : p.value.toPrecision(3)}${p.flagged ? ', flagged' : ''}; open the layer`}
                  data-layer={p.layer}
                  className="bar"
                  onKeyDown={open}
                />
              );
            }}
          >
            {data.map((d) => (
              <Cell key={d.layer} fill={d.flagged ? COLORS.flagged : COLORS.normal} stroke={d.layer === selected ? '#000' : 'none'} />
            ))}
          </Bar>
        </BarChart>
      </ResponsiveContainer>
      <p className="legend" aria-hidden="true">
        <span className="swatch" style={{ background: COLORS.flagged }} /> flagged <span className="swatch" style={{ background: COLORS.normal }} /> not flagged
      </p>
    </figure>
  );
}

function formatTick(v: number): string {
  if (v === 0) return '0';
  return Math.abs(v) >= 0.01 && Math.abs(v) < 1000 ? String(Number(v.toPrecision(3))) : v.toExponential(0);
}
