import type { ScanResult } from '../analysis/scanModel';
import { useAppStore } from '../state/store';
import { TermLabel } from './TermLabel';

const num = (x: number | null, digits: number) => (x === null ? '–' : Math.abs(x) >= 1e-3 || x === 0 ? x.toFixed(digits) : x.toExponential(2));

export function LayerTable({ result }: { result: ScanResult }) {
  const { selectedLayer, selectLayer } = useAppStore();
  return (
    <div className="table-scroll">
    <table className="layers" data-testid="layer-table">
      <thead>
        <tr>
          <th scope="col">layer</th>
          <th scope="col"><TermLabel term="pcs">pcs</TermLabel></th>
          <th scope="col"><TermLabel term="z">pcs z</TermLabel></th>
          <th scope="col"><TermLabel term="sigmaRatio">σ1/σ2</TermLabel></th>
          <th scope="col"><TermLabel term="z">σ1/σ2 z</TermLabel></th>
          <th scope="col"><TermLabel term="keyGap">keys gap</TermLabel></th>
          <th scope="col"><TermLabel term="sameDirection">same direction</TermLabel></th>
          <th scope="col"><TermLabel term="flagged">verdict</TermLabel></th>
          <th scope="col" />
        </tr>
      </thead>
      <tbody>
        {result.report.layers.map((l, i) => {
          const d = result.details[i];
          return (
            <tr key={l.layer} className={`${l.flagged ? 'flagged' : ''}${selectedLayer === l.layer ? ' selected' : ''}`} data-layer={l.layer}>
              <td>{l.layer}</td>
              <td>{num(l.pcs, 6)}</td>
              <td>{num(l.pcsZ, 1)}</td>
              <td>{num(d?.sigmaRatio ?? null, 2)}</td>
              <td>{num(d?.sigmaRatioZ ?? null, 1)}</td>
              <td title={d && d.keyGap !== null ? `σ${d.keyGapIndex}/σ${d.keyGapIndex + 1} of the key-whitened matrix${d.keyGapZ !== null ? `, robust z ${d.keyGapZ.toFixed(1)} against the other layers` : ''}` : 'not computed (README: key-whitened spectrum)'}>{num(d?.keyGap ?? null, 2)}</td>
              <td>{num(l.sameDirectionFraction, 3)}</td>
              <td>
                {l.flagged ? <strong className="flag">edited?</strong> : ''}
                {l.flagged && d && d.spikes > 1 ? <span className="spikes" title="the spectrum shows this many spikes together: several rank-one edits"> {d.spikes} spikes</span> : ''}
              </td>
              <td>
                <button type="button" className="link" onClick={() => selectLayer(l.layer)} aria-label={`details of layer ${l.layer}`}>
                  details
                </button>
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
    </div>
  );
}
