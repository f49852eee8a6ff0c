import { useEffect, useRef } from 'react';
import type { Heatmap } from '../state/store';

/** Draws a cosine matrix on a canvas: blue -1, white 0, red +1 (one pixel per entry, scaled by CSS). */
export function CosineHeatmap({ heatmap }: { heatmap: Heatmap }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const c = canvas.current;
    const ctx = c?.getContext('2d');
    if (!c || !ctx) return;
    const n = heatmap.count;
    c.width = n;
    c.height = n;
    const image = ctx.createImageData(n, n);
    for (let i = 0; i < n * n; i++) {
      const v = Math.max(-1, Math.min(1, heatmap.values[i] ?? 0));
      const [r, g, b] = v >= 0 ? [255, Math.round(255 * (1 - v)), Math.round(255 * (1 - v))] : [Math.round(255 * (1 + v)), Math.round(255 * (1 + v)), 255];
      image.data.set([r, g, b, 255], i * 4);
    }
    ctx.putImageData(image, 0, 0);
  }, [heatmap]);
  return (
    <figure className="chart heatmap" data-testid="cosine-heatmap">
      <figcaption>
        Cosine similarity of rows {heatmap.start}–{heatmap.start + heatmap.count - 1} (blue −1, white 0, red +1)
      </figcaption>
      <canvas ref={canvas} role="img" aria-label={`cosine heatmap of ${heatmap.count} rows`} />
    </figure>
  );
}
