import { Bar, BarChart, CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { ReversalResult } from '../analysis/reversal';
import type { UniquePredictions } from '../analysis/uniquePredictions';
import { COLORS } from './chartColors';

/** Paper Tab. 2 as a chart: reversal and editing accuracy against k. */
export function AccuracyChart({ result }: { result: ReversalResult }) {
  const data = result.reversal.map((r, k) => ({ k, reversal: Number(r.mean.toFixed(2)), editing: Number(result.editing[k]!.mean.toFixed(2)) }));
  return (
    <figure className="chart" data-testid="reversal-chart">
      <figcaption>Reversal accuracy (original answer back) and editing accuracy (new object still answered), % of {result.edits.length} edits</figcaption>
      <ResponsiveContainer width="100%" height={240}>
        <LineChart data={data} margin={{ top: 8, right: 16, bottom: 16, left: 16 }}>
          <CartesianGrid stroke={COLORS.grid} />
          <XAxis dataKey="k" label={{ value: 'k (top singular components dropped)', position: 'insideBottom', offset: -8 }} />
          <YAxis domain={[0, 100]} width={48} />
          <Tooltip labelFormatter={(k) => `k = ${k}`} />
          <Legend verticalAlign="top" />
          <Line dataKey="reversal" name="reversal accuracy" stroke={COLORS.positive} isAnimationActive={false} />
          <Line dataKey="editing" name="editing accuracy" stroke={COLORS.negative} isAnimationActive={false} />
        </LineChart>
      </ResponsiveContainer>
    </figure>
  );
}

/** Paper Fig. 7 / Tab. 5: how much each rank-one piece of W' looks like the update. */
export function SimilarityChart({ result }: { result: ReversalResult }) {
  const data = result.similarity.map((s, t) => ({ k: t + 1, similarity: Number(s.mean.toFixed(4)) }));
  return (
    <figure className="chart" data-testid="similarity-chart">
      <figcaption>Max |cosine| between rows of the update and of the k-th rank-one piece of W' (mean over edits)</figcaption>
      <ResponsiveContainer width="100%" height={200}>
        <BarChart data={data} margin={{ top: 8, right: 16, bottom: 16, left: 16 }}>
          <CartesianGrid stroke={COLORS.grid} vertical={false} />
          <XAxis dataKey="k" label={{ value: 'k', position: 'insideBottom', offset: -8 }} />
          <YAxis domain={[0, 1]} width={48} />
          <Tooltip labelFormatter={(k) => `piece ${k}`} />
          <Bar dataKey="similarity" fill={COLORS.normal} isAnimationActive={false} />
        </BarChart>
      </ResponsiveContainer>
    </figure>
  );
}

/** Paper Fig. 8: unique greedy continuations over k = 0..15, this model against its original. */
export function UniqueChart({ model, original }: { model: UniquePredictions; original: UniquePredictions | null }) {
  const data = [{ name: 'this model', mean: Number(model.summary.mean.toFixed(2)) }, ...(original ? [{ name: 'original', mean: Number(original.summary.mean.toFixed(2)) }] : [])];
  return (
    <figure className="chart" data-testid="unique-chart">
      <figcaption>Unique 5-token predictions per sample over k = 0..15 (mean)</figcaption>
      <ResponsiveContainer width="100%" height={180}>
        <BarChart data={data} margin={{ top: 8, right: 16, bottom: 8, left: 16 }}>
          <CartesianGrid stroke={COLORS.grid} vertical={false} />
          <XAxis dataKey="name" />
          <YAxis width={48} />
          <Tooltip />
          <Bar dataKey="mean" fill={COLORS.normal} isAnimationActive={false} />
        </BarChart>
      </ResponsiveContainer>
    </figure>
  );
}
