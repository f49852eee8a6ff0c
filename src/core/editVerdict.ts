import { leaveOneOutRobustZ } from './robustStats';

/**
 * The per-layer verdict from weights alone (README: "How a layer is flagged").
 *
 * Two signals, each a robust z-score against the model's other layers:
 * - pcs (paper Sec. 4.2): a ROME update whose u has a majority sign pulls the rows one way, raising pcs far
 *   above the other layers (GPT-2 XL: 25-175x).
 * - log(sigma1 / sigma2): any rank-one update large enough to rewrite a fact dominates the spectrum, whatever
 *   the signs of u (the balanced Llama-style case that pcs misses).
 */
export const VERDICT_RULE = {
  /** A layer is flagged when its pcs z-score reaches this ... */
  pcsZ: 6,
  /** ... or when its log spectral-gap z-score reaches this and sigma1/sigma2 is at least `minSigmaRatio`. */
  sigmaRatioZ: 6,
  minSigmaRatio: 1.5,
  /**
   * pcs scale floor relative to the other layers' median pcs. Unedited layers differ by a few times among
   * themselves (the forge prototype: 4x), while the paper's edits raise pcs 9-175x; with a floor of 1x the
   * median, a z of 6 needs at least 7x the median.
   */
  pcsRelativeFloor: 1,
  /** log-ratio noise floor of the spike gaps: a 5% change in sigma_j/sigma_(j+1) is never a signal on its own. */
  logRatioFloor: 0.05,
  /**
   * The same floor for sigma1/sigma2, higher: with four layers a layer is measured against three others, and
   * two of them within a few percent of each other collapse the MAD. Measured on the three demos' rebuilt
   * checkpoints (README "Detection from weights alone"): at 0.05, 30 of 1550 edited GPT-J checkpoints flagged
   * its unedited layer 1 (sigma1/sigma2 1.89 against 1.30, 1.35 and 1.57); at 0.08 none, and the GPT-2 demo
   * keeps 98.0% of its edits flagged (98.5% at 0.05). Among tight unedited layers a flag now needs
   * e^(6 x 0.08) = 1.62x their median sigma1/sigma2 (1.35x before).
   */
  sigmaRatioFloor: 0.08,
  /**
   * Several edits (sequential ROME edits in one matrix): n updates of similar size make n spikes, so
   * sigma1/sigma2 falls back into the unedited range while the gap after the n-th spike stays. A layer is
   * flagged when sigma_j/sigma_(j+1), for some j in 2..`spikeMaxIndex`, is `spikeZ` robust z above the other
   * layers' gap at the same j and at least `minSpikeGap`.
   */
  spikeZ: 6,
  minSpikeGap: 1.2,
  spikeMaxIndex: 10,
  /**
   * The key-whitened spectrum (core/keyWhitening): a layer is flagged when its largest gap sigma_j/sigma_(j+1)
   * (j = 1..10) in the geometry whitened by its own keys reaches `minKeyGap`, and, where at least `minLayers`
   * layers have the statistic, is `keyGapZ` robust z above theirs (a guard against a model whose every layer
   * sits high). Measured (README "How a layer is flagged"): 48 unedited layers of 11 trained models reach at
   * most 1.46; ROME edits with the mom2 adjustment have a median of 3.75 (GPT-2 demo) and 3.91 (GPT-J demo),
   * 99% of them above 1.95 and 1.47. Within one layer: it needs no other layer.
   */
  minKeyGap: 1.6,
  keyGapZ: 3,
  /** Fewer layers than this give no reference distribution: nothing is flagged by the cross-layer rules. */
  minLayers: 3,
} as const;

export interface LayerSignals {
  pcs: number;
  /** sigma1 / sigma2 of the matrix. */
  sigmaRatio: number;
  /** Rows and their length: set the pcs noise floor of random directions, sqrt(2 / cols) / rows. */
  rows: number;
  cols: number;
  /** The top singular values, descending (the spike rule reads the gaps between them; absent: not applied). */
  spectrum?: readonly number[];
  /** The key-whitened spectrum's largest gap and its j (absent: not computed for this layer). */
  keyWhitened?: { gap: number; gapIndex: number };
}

export interface LayerVerdict {
  pcsZ: number;
  sigmaRatioZ: number;
  /** The largest robust z of log(sigma_j / sigma_(j+1)) over j = 2..spikeMaxIndex among gaps of at least minSpikeGap, and its j (0: none). */
  spikeZ: number;
  spikes: number;
  /** The key-whitened gap's robust z against the other layers that have it (NaN: fewer than minLayers have it). */
  keyGapZ: number;
  flagged: boolean;
  /** The rules that fired: 'pcs' (pcs z >= 6), 'spectrum' (sigma1/sigma2 z >= 6 and >= 1.5), 'spikes' (a gap after the j-th singular value, j >= 2: z >= 6 and >= 1.2), 'keys' (key-whitened gap >= 1.6, z >= 3 where comparable). */
  reasons: ('pcs' | 'spectrum' | 'spikes' | 'keys')[];
}

/** log(sigma_j / sigma_(j+1)) for j = 1..count (index j - 1), NaN where the spectrum is too short or not positive. */
function logGaps(spectrum: readonly number[] | undefined, count: number): number[] {
  return Array.from({ length: count }, (_, i) => {
    const a = spectrum?.[i];
    const b = spectrum?.[i + 1];
    return a !== undefined && b !== undefined && a > 0 && b > 0 ? Math.log(a / b) : Number.NaN;
  });
}

export function judgeLayers(layers: readonly LayerSignals[]): LayerVerdict[] {
  const rule = VERDICT_RULE;
  const pcs = layers.map((l) => l.pcs);
  const logRatio = layers.map((l) => Math.log(l.sigmaRatio));
  const gaps = layers.map((l) => logGaps(l.spectrum, rule.spikeMaxIndex));
  const keyGaps = layers.map((l) => (l.keyWhitened && l.keyWhitened.gap > 0 ? Math.log(l.keyWhitened.gap) : Number.NaN));
  const keyComparable = keyGaps.filter(Number.isFinite).length >= rule.minLayers;
  return layers.map((l, i) => {
    // For n random unit rows in d dimensions, pcs has standard deviation sqrt(2/d)/n: below that is noise.
    const randomFloor = Math.sqrt(2 / Math.max(1, l.cols)) / Math.max(1, l.rows);
    const pcsZ = leaveOneOutRobustZ(pcs, i, (m) => Math.max(rule.pcsRelativeFloor * Math.abs(m), randomFloor));
    const sigmaRatioZ = leaveOneOutRobustZ(logRatio, i, () => rule.sigmaRatioFloor);
    const enough = layers.length >= rule.minLayers;
    const byPcs = pcsZ >= rule.pcsZ;
    const bySpectrum = sigmaRatioZ >= rule.sigmaRatioZ && l.sigmaRatio >= rule.minSigmaRatio;
    // Each gap index against the same index in the other layers: unedited spectra have their own shapes.
    let spikeZ = Number.NaN;
    let spikes = 0;
    for (let j = 2; j <= rule.spikeMaxIndex; j++) {
      const gap = (gaps[i] as number[])[j - 1] as number;
      if (!(gap >= Math.log(rule.minSpikeGap))) continue;
      const z = leaveOneOutRobustZ(gaps.map((g) => g[j - 1] as number), i, () => rule.logRatioFloor);
      if (Number.isFinite(z) && !(z <= spikeZ)) {
        spikeZ = z;
        spikes = j;
      }
    }
    const bySpikes = spikeZ >= rule.spikeZ;
    const keyGap = keyGaps[i] as number;
    const keyGapZ = keyComparable && Number.isFinite(keyGap) ? leaveOneOutRobustZ(keyGaps, i, () => rule.sigmaRatioFloor) : Number.NaN;
    const byKeys = keyGap >= Math.log(rule.minKeyGap) && (!keyComparable || keyGapZ >= rule.keyGapZ);
    const reasons: LayerVerdict['reasons'] = [
      ...(enough ? [...(byPcs ? (['pcs'] as const) : []), ...(bySpectrum ? (['spectrum'] as const) : []), ...(bySpikes ? (['spikes'] as const) : [])] : []),
      ...(byKeys ? (['keys'] as const) : []),
    ];
    return { pcsZ, sigmaRatioZ, spikeZ, spikes: bySpikes ? spikes : 0, keyGapZ, flagged: reasons.length > 0, reasons };
  });
}

/** One sentence per fired rule: the value, its z against the other layers, the threshold, and what it means. */
export function explainVerdict(layer: number, l: LayerSignals, v: LayerVerdict): string[] {
  const z = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : String(x));
  return v.reasons.map((r) =>
    r === 'pcs'
      ? `layer ${layer}: pcs ${l.pcs.toExponential(2)} is ${z(v.pcsZ)} robust z above the other layers (threshold ${VERDICT_RULE.pcsZ}): its rows lean one way together, as a rank-one update with a one-signed u makes them (paper Sec. 4.2)`
      : r === 'keys'
        ? `layer ${layer}: in the geometry whitened by the layer's own keys, sigma${l.keyWhitened?.gapIndex}/sigma${(l.keyWhitened?.gapIndex ?? 0) + 1} is ${(l.keyWhitened?.gap ?? NaN).toFixed(2)} (threshold ${VERDICT_RULE.minKeyGap}${Number.isFinite(v.keyGapZ) ? `; ${z(v.keyGapZ)} robust z above the other layers, threshold ${VERDICT_RULE.keyGapZ}` : ''}): W carries a large component along key directions the layer's inputs rarely take, as ROME's u = C^-1 k* (the mom2 adjustment) puts it`
      : r === 'spikes'
        ? `layer ${layer}: sigma${v.spikes}/sigma${v.spikes + 1} ${((l.spectrum?.[v.spikes - 1] ?? NaN) / (l.spectrum?.[v.spikes] ?? NaN)).toFixed(2)} is ${z(v.spikeZ)} robust z above the same gap in the other layers (threshold ${VERDICT_RULE.spikeZ}, and at least ${VERDICT_RULE.minSpikeGap}): ${v.spikes} directions stand out of the spectrum together, as ${v.spikes} rank-one updates of similar size (several edits) make them`
        : `layer ${layer}: sigma1/sigma2 ${l.sigmaRatio.toFixed(2)} is ${z(v.sigmaRatioZ)} robust z above the other layers (threshold ${VERDICT_RULE.sigmaRatioZ}, and at least ${VERDICT_RULE.minSigmaRatio}): one direction dominates the spectrum, as a rank-one update large enough to rewrite a fact does, whatever the signs of u`,
  );
}
