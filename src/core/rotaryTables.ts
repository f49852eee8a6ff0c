/** Rotary cos/sin tables [positions, rotaryDim/2]: angle p / base^(2i/rotaryDim) (the HF convention). */
export function rotaryCosSin(positions: number, rotaryDim: number, base: number): { cos: Float32Array; sin: Float32Array } {
  const half = rotaryDim / 2;
  const cos = new Float32Array(positions * half);
  const sin = new Float32Array(positions * half);
  for (let t = 0; t < positions; t++) {
    for (let i = 0; i < half; i++) {
      const angle = t / base ** ((2 * i) / rotaryDim);
      cos[t * half + i] = Math.cos(angle);
      sin[t * half + i] = Math.sin(angle);
    }
  }
  return { cos, sin };
}
