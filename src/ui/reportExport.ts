import { zipSync, strToU8 } from 'fflate';

/**
 * The reviewer's report: every chart of the open view as SVG and PNG, every table as CSV, and the JSON
 * results, in one zip. Reads what the page shows (no recomputation); charts are recharts SVGs.
 */
function slug(text: string, fallback: string): string {
  const s = text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 48);
  return s || fallback;
}

function csvCell(text: string): string {
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** A table's header and body rows as CSV. */
export function tableToCsv(table: HTMLTableElement): string {
  return `${[...table.rows].map((row) => [...row.cells].map((c) => csvCell(c.textContent?.trim() ?? '')).join(',')).join('\n')}\n`;
}

/** A standalone SVG document of a chart, its computed text styles inlined enough to read anywhere. */
export function chartSvg(svg: SVGSVGElement): string {
  const clone = svg.cloneNode(true) as SVGSVGElement;
  clone.setAttribute('xmlns', 'http://www.w3.org/2000/svg');
  const { width, height } = svg.getBoundingClientRect();
  clone.setAttribute('width', String(Math.round(width)));
  clone.setAttribute('height', String(Math.round(height)));
  clone.setAttribute('font-family', 'sans-serif');
  clone.setAttribute('font-size', '12');
  const background = document.createElementNS('http://www.w3.org/2000/svg', 'rect');
  background.setAttribute('width', '100%');
  background.setAttribute('height', '100%');
  background.setAttribute('fill', 'white');
  clone.insertBefore(background, clone.firstChild);
  return new XMLSerializer().serializeToString(clone);
}

/** Renders an SVG document to PNG bytes through an image and a canvas (2x for print). */
export async function svgToPng(svgText: string, width: number, height: number): Promise<Uint8Array> {
  const url = URL.createObjectURL(new Blob([svgText], { type: 'image/svg+xml' }));
  try {
    const image = new Image();
    image.src = url;
    await image.decode();
    const canvas = document.createElement('canvas');
    canvas.width = Math.max(1, Math.round(width * 2));
    canvas.height = Math.max(1, Math.round(height * 2));
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('no 2D canvas');
    ctx.scale(2, 2);
    ctx.drawImage(image, 0, 0, width, height);
    const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/png'));
    if (!blob) throw new Error('the canvas gave no PNG');
    return new Uint8Array(await blob.arrayBuffer());
  } finally {
    URL.revokeObjectURL(url);
  }
}

/** Builds the zip from the view under `root` and the JSON results. Returns the bytes and the file list. */
export async function buildReportZip(root: HTMLElement, results: Record<string, unknown>, link: string | null): Promise<{ bytes: Uint8Array; files: string[] }> {
  const files: Record<string, Uint8Array> = {};
  const figures = [...root.querySelectorAll('figure.chart')];
  let n = 0;
  for (const figure of figures) {
    const svg = figure.querySelector('svg.recharts-surface');
    if (!(svg instanceof SVGSVGElement)) continue;
    n++;
    const name = `charts/${String(n).padStart(2, '0')}-${slug(figure.querySelector('figcaption')?.textContent ?? '', 'chart')}`;
    const text = chartSvg(svg);
    files[`${name}.svg`] = strToU8(text);
    const { width, height } = svg.getBoundingClientRect();
    files[`${name}.png`] = await svgToPng(text, width, height);
  }
  [...root.querySelectorAll('table')].forEach((table, i) => {
    files[`tables/${String(i + 1).padStart(2, '0')}-${slug(table.caption?.textContent ?? '', 'table')}.csv`] = strToU8(tableToCsv(table));
  });
  files['report.json'] = strToU8(`${JSON.stringify({ generatedBy: 'Edit Forensics', link, ...results }, null, 2)}\n`);
  return { bytes: zipSync(files, { level: 6 }), files: Object.keys(files) };
}
