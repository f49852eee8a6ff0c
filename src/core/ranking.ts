/** Index of the largest value (the first one on ties). */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if ((values[i] as number) > (values[best] as number)) best = i;
  return best;
}

/** Indices of the `k` largest values, largest first; one pass, keeping only the k best (vocabularies are large). */
export function topIndices(values: ArrayLike<number>, k: number): number[] {
  const best: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (best.length < k || v > (values[best[best.length - 1] as number] as number)) {
      best.push(i);
      best.sort((a, b) => (values[b] as number) - (values[a] as number) || a - b);
      if (best.length > k) best.pop();
    }
  }
  return best;
}
