import type { ScanResult } from '../analysis/scanModel';
import { useAppStore } from '../state/store';
import { LayerChart } from './LayerChart';
import { diffRankText } from './LayerDetail';

/** With the original given: the exact per-layer difference. */
export function DiffView({ result }: { result: ScanResult }) {
  const { scale, selectLayer, selectedLayer } = useAppStore();
  const diff = result.report.diff;
  if (!diff) return null;
  return (
    <section className="panel" aria-labelledby="diff-title" data-testid="diff-view">
      <h2 id="diff-title">Difference from the original</h2>
      <LayerChart
        title="‖W′ − W‖F per layer"
        term="frobenius"
        testId="diff-chart"
        scale={scale}
        selected={selectedLayer}
        onSelect={selectLayer}
        points={diff.layers.map((d) => ({ layer: d.layer, value: d.frobenius, flagged: d.frobenius > 0 }))}
      />
      <div className="table-scroll"><table className="layers">
        <thead>
          <tr>
            <th scope="col">layer</th>
            <th scope="col">‖dW‖F</th>
            <th scope="col">rank-one share</th>
            <th scope="col">rank (σ &gt; 10⁻³σ1)</th>
            <th scope="col">rows pointing the same way</th>
          </tr>
        </thead>
        <tbody>
          {diff.layers.map((d) => (
            <tr key={d.layer} className={d.frobenius > 0 ? 'flagged' : ''}>
              <td>{d.layer}</td>
              <td>{d.frobenius === 0 ? '0 (identical)' : d.frobenius.toPrecision(4)}</td>
              <td>{d.rankOneShare?.toFixed(5) ?? '–'}</td>
              <td>{(() => {
                const detail = result.details.find((x) => x.layer === d.layer)?.diff;
                return d.frobenius === 0 || !detail ? '0' : diffRankText(detail);
              })()}</td>
              <td>{d.sameDirectionFraction === null ? '–' : `${(d.sameDirectionFraction * 100).toFixed(1)}%`}</td>
            </tr>
          ))}
        </tbody>
      </table></div>
    </section>
  );
}
