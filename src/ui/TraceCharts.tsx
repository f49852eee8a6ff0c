import { Bar, BarChart, CartesianGrid, ErrorBar, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { ProbeTableRow } from '../analysis/relationProbeTable';
import { RELATIONS } from '../edit/relations';
import { COLORS } from './chartColors';

/** Paper Tab. 1 as a chart: probe accuracy (mean ± std over repeats) and the random baseline against #classes. */
export function ProbeTableChart({ rows }: { rows: readonly ProbeTableRow[] }) {
  const data = rows.map((r) => ({ classes: r.classes, probe: Number(r.mean.toFixed(2)), std: Number(r.std.toFixed(2)), baseline: Number(r.randomBaseline.toFixed(2)) }));
  return (
    <figure className="chart" data-testid="probe-chart">
      <figcaption>Relation-probe accuracy (%) against the number of relations, mean ± std over repeats</figcaption>
      <ResponsiveContainer width="100%" height={240}>
        <LineChart data={data} margin={{ top: 8, right: 16, bottom: 16, left: 16 }}>
          <CartesianGrid stroke={COLORS.grid} />
          <XAxis dataKey="classes" label={{ value: '#classes', position: 'insideBottom', offset: -8 }} />
          <YAxis domain={[0, 100]} width={48} />
          <Tooltip labelFormatter={(k) => `${k} classes`} />
          <Legend verticalAlign="top" />
          <Line dataKey="probe" name="probe" stroke={COLORS.positive} isAnimationActive={false}>
            <ErrorBar dataKey="std" width={4} stroke={COLORS.positive} />
          </Line>
          <Line dataKey="baseline" name="random baseline" stroke={COLORS.negative} strokeDasharray="4 3" isAnimationActive={false} />
        </LineChart>
      </ResponsiveContainer>
    </figure>
  );
}

/** Probabilities of the top relations for the traced layer. */
export function RelationChart({ relations }: { relations: readonly { relation: string; probability: number }[] }) {
  const data = relations.slice(0, 8).map((r) => ({ relation: r.relation, name: RELATIONS.find((x) => x.id === r.relation)?.name ?? r.relation, probability: Number((100 * r.probability).toFixed(1)) }));
  return (
    <figure className="chart" data-testid="relation-chart">
      <figcaption>Predicted relation (%)</figcaption>
      <ResponsiveContainer width="100%" height={200}>
        <BarChart data={data} margin={{ top: 8, right: 16, bottom: 8, left: 16 }}>
          <CartesianGrid stroke={COLORS.grid} vertical={false} />
          <XAxis dataKey="relation" interval={0} tick={{ fontSize: 11 }} />
          <YAxis domain={[0, 100]} width={48} />
          <Tooltip labelFormatter={(id, items) => `${id} “${(items?.[0]?.payload as { name?: string } | undefined)?.name ?? ''}”`} />
          <Bar dataKey="probability" fill={COLORS.normal} isAnimationActive={false} />
        </BarChart>
      </ResponsiveContainer>
    </figure>
  );
}
