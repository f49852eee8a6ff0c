import { useEffect, useRef, useState } from 'react';
import type { ScanResult } from '../analysis/scanModel';
import { useAppStore } from '../state/store';
import { CosineHeatmap } from './CosineHeatmap';
import { HistogramChart } from './HistogramChart';
import { SingularValueChart } from './SingularValueChart';

/** "3", or "at least 16" when every computed singular value counts. */
export function diffRankText(diff: { rank: number; rankIsLowerBound: boolean }): string {
  return diff.rankIsLowerBound ? `at least ${diff.rank}` : String(diff.rank);
}

/** One layer: the estimated direction split, the spectrum, a cosine heatmap on request, and the diff if known. */
export function LayerDetail({ result, layer }: { result: ScanResult; layer: number }) {
  const { heatmap, heatmapBusy, loadHeatmap, selectLayer } = useAppStore();
  const index = result.report.layers.findIndex((l) => l.layer === layer);
  const row = result.report.layers[index];
  const detail = result.details[index];
  const [start, setStart] = useState(0);
  const [count, setCount] = useState(Math.min(256, detail?.rows ?? 256));
  // The "details" button or bar that opened this view is gone: keyboard focus moves to its heading.
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), [layer]);
  if (!row || !detail) return null;
  const split = detail.direction;
  return (
    <section className="panel" aria-labelledby="detail-title" data-testid="layer-detail">
      <h2 id="detail-title" ref={heading} tabIndex={-1}>
        Layer {layer} {row.flagged && <span className="flag">looks edited</span>}
        <button type="button" className="link close" onClick={() => selectLayer(null)}>
          back to all layers
        </button>
      </h2>
      <p className="mono">{row.tensor}</p>
      <dl className="stats">
        <dt>rows × length</dt>
        <dd>
          {detail.rows} × {detail.cols} {detail.zeroRows > 0 && `(${detail.zeroRows} zero rows excluded)`}
        </dd>
        <dt>pcs</dt>
        <dd>{row.pcs?.toExponential(4) ?? '–'}</dd>
        <dt>σ1/σ2</dt>
        <dd>{detail.sigmaRatio?.toFixed(3) ?? '–'}</dd>
        <dt>top singular vector</dt>
        <dd>
          {split.positive} positive, {split.negative} negative entries: {((row.sameDirectionFraction ?? 0) * 100).toFixed(1)}% point the majority's way
        </dd>
      </dl>
      <div className="chart-row">
        <HistogramChart title="Entries of the top left singular vector (estimated u)" histogram={detail.uHistogram} testId="direction-histogram" />
        <SingularValueChart sigma={row.sigma} testId="singular-values" />
      </div>
      {detail.diff && (
        <div className="diff-detail">
          <h3>Difference from the original (dW = W′ − W)</h3>
          {detail.diff.frobenius === 0 ? (
            <p>This layer is identical to the original.</p>
          ) : (
            <>
              <p>
                ‖dW‖<sub>F</sub> = {detail.diff.frobenius.toPrecision(4)}, rank-one share σ1²/Σσ² = {detail.diff.rankOneShare?.toFixed(5)}, {((detail.diff.direction.sameDirectionFraction || 0) * 100).toFixed(1)}% of dW's rows point the same way.
              </p>
              <p data-testid="diff-rank">
                Rank of dW: {diffRankText(detail.diff)} (singular values above 10<sup>−3</sup> σ1): one per rank-one edit in this matrix; Reverse with k = {detail.diff.rank} drops them.
              </p>
              <div className="chart-row">
                <HistogramChart title="Entries of u of dW (exact)" histogram={detail.diff.uHistogram} testId="diff-histogram" />
                <SingularValueChart sigma={detail.diff.sigma} testId="diff-singular-values" />
              </div>
            </>
          )}
        </div>
      )}
      <form
        className="heatmap-form"
        onSubmit={(e) => {
          e.preventDefault();
          void loadHeatmap(layer, start, count);
        }}
      >
        <label>
          first row <input type="number" min={0} max={detail.rows - 1} value={start} onChange={(e) => setStart(Math.max(0, Number(e.target.value) || 0))} />
        </label>
        <label>
          rows (≤ 1024) <input type="number" min={1} max={1024} value={count} onChange={(e) => setCount(Math.max(1, Math.min(1024, Number(e.target.value) || 1)))} />
        </label>
        <button type="submit" disabled={heatmapBusy}>
          {heatmapBusy ? 'Computing…' : 'Cosine heatmap'}
        </button>
      </form>
      {heatmap && heatmap.layer === layer && <CosineHeatmap heatmap={heatmap} />}
    </section>
  );
}
