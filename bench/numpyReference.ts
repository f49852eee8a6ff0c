import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';

/** numpy's times for the same kernels on the same bytes (the README's reference; not a dependency). */
export interface NumpyTimes {
  matmul: number;
  matmulTransposed: number;
  svd: number;
  pcs: number;
}

const SCRIPT = String.raw`
import sys, json, time
import numpy as np
path, rows, cols, l = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
A = np.fromfile(path, dtype=np.float32).reshape(rows, cols)
rng = np.random.default_rng(0)
B = rng.standard_normal((cols, l)).astype(np.float32)
Q = rng.standard_normal((rows, l)).astype(np.float32)
def med(f, n=5):
    f(); ts = []
    for _ in range(n):
        t = time.perf_counter(); f(); ts.append(time.perf_counter() - t)
    return sorted(ts)[len(ts) // 2]
def pcs():
    norms = np.sqrt((A * A).sum(1)); nz = norms > 0
    s = (A[nz] / norms[nz, None]).sum(0); n = nz.sum()
    return (s @ s - n) / (n * n - n)
def rsvd(k=16, p=10, q=2):
    Y = A @ rng.standard_normal((cols, k + p)).astype(np.float32)
    for _ in range(q):
        Y, _ = np.linalg.qr(Y); Z = A.T @ Y; Z, _ = np.linalg.qr(Z); Y = A @ Z
    Y, _ = np.linalg.qr(Y); Bs = Y.T @ A
    return np.linalg.svd(Bs, full_matrices=False)[1][:k]
print(json.dumps({"matmul": med(lambda: A @ B), "matmulTransposed": med(lambda: A.T @ Q), "svd": med(rsvd, 3), "pcs": med(pcs)}))
`;

/** Times the kernels in numpy on the matrix `data`, or null where python3 with numpy is not installed. */
export function numpyTimes(data: Float32Array, rows: number, cols: number, panel: number, scratchPath: string): NumpyTimes | null {
  writeFileSync(scratchPath, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  try {
    // Unset the OpenBLAS core-type overrides some machines set for old builds: they slow a current numpy.
    const env = { ...process.env };
    delete env['OPENBLAS_CORETYPE'];
    delete env['OPENBLAS_L2_SIZE'];
    const out = execFileSync('python3', ['-c', SCRIPT, scratchPath, String(rows), String(cols), String(panel)], { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'ignore'] });
    return JSON.parse(out) as NumpyTimes;
  } catch {
    return null;
  }
}
