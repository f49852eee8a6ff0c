import type { ScanResult } from '../analysis/scanModel';
import { scanTimingText } from '../analysis/scanTiming';

const fmt = (x: number | null, digits = 4): string => (x === null ? '-' : Math.abs(x) >= 1e-3 || x === 0 ? x.toFixed(digits) : x.toExponential(2));

/** The human-readable per-layer table of `edit-forensics scan`. */
export function formatScanTable(result: ScanResult): string {
  const { report, details } = result;
  const lines = [
    `model: ${report.model.family} (${result.familyDescription}; detected by ${result.detectedBy}), ${report.model.layers} layers, ${report.model.rows} x ${report.model.cols} ${report.model.dtype}`,
    `backend: ${result.backendDescription}`,
    `time: ${scanTimingText(result.timing)}`,
  ];
  if (result.ignoredFiles.length) lines.push(`ignored: ${result.ignoredFiles.join(', ')}`);
  lines.push('');
  const header = ['layer', 'pcs', 'pcs z', 's1/s2', 's1/s2 z', 'keys gap', 'same dir', 'flag'];
  const diffHeader = report.diff ? ['|dW|_F', 'rank-1 share', 'same dir (dW)'] : [];
  const rows = report.layers.map((l, i) => {
    const d = details[i];
    const diff = report.diff?.layers[i];
    return [
      String(l.layer),
      fmt(l.pcs, 6),
      fmt(l.pcsZ, 1),
      fmt(d?.sigmaRatio ?? null, 2),
      fmt(d?.sigmaRatioZ ?? null, 1),
      d && d.keyGap !== null ? `${d.keyGap.toFixed(2)} (j ${d.keyGapIndex})` : '-',
      fmt(l.sameDirectionFraction, 3),
      l.flagged ? 'EDITED?' : '',
      ...(diff ? [fmt(diff.frobenius, 4), fmt(diff.rankOneShare, 4), fmt(diff.sameDirectionFraction, 3)] : []),
    ];
  });
  const all = [[...header, ...diffHeader], ...rows];
  const widths = all[0]!.map((_, c) => Math.max(...all.map((r) => (r[c] ?? '').length)));
  for (const r of all) lines.push(r.map((cell, c) => cell.padStart(widths[c] as number)).join('  ').trimEnd());
  lines.push('');
  const edited = report.verdict.editedLayers;
  lines.push(
    edited.length === 0
      ? 'verdict: no layer looks edited'
      : `verdict: ${edited.length > 1 ? 'layers' : 'layer'} ${edited.join(', ')} ${report.diff ? (edited.length > 1 ? 'differ from the original' : 'differs from the original') : edited.length > 1 ? 'look edited' : 'looks edited'}`,
  );
  return `${lines.join('\n')}\n`;
}
