import { execFileSync } from 'node:child_process';

/**
 * The reference the real-size scan is held to: numpy doing the scan's per-layer work on the same files (read
 * the MLP output matrix, convert F16/BF16 to float32, pcs, Halko top-16 with 10 oversamples and 2 power
 * iterations). numpy is the README's yardstick, not a dependency: null where python3 or numpy is missing.
 */
const SCRIPT = String.raw`
import sys, json, time, struct
import numpy as np
pattern, layers, rows_axis = sys.argv[1], int(sys.argv[2]), sys.argv[3]
files = json.loads(sys.argv[4])
headers = {}
for f in files:
    with open(f, 'rb') as h:
        n = struct.unpack('<Q', h.read(8))[0]
        headers[f] = (json.loads(h.read(n)), 8 + n)
def tensor(name):
    for f, (hd, base) in headers.items():
        if name in hd:
            t = hd[name]; a, b = t['data_offsets']
            raw = np.fromfile(f, dtype=np.uint16 if t['dtype'] != 'F32' else np.float32, count=(b - a) // (2 if t['dtype'] != 'F32' else 4), offset=base + a)
            if t['dtype'] == 'F16': m = raw.view(np.float16).astype(np.float32)
            elif t['dtype'] == 'BF16': m = (raw.astype(np.uint32) << 16).view(np.float32)
            else: m = raw
            return m.reshape(t['shape'])
    raise KeyError(name)
rng = np.random.default_rng(0)
def pcs(A):
    norms = np.sqrt((A * A).sum(1)); nz = norms > 0
    s = (A[nz] / norms[nz, None]).sum(0); n = nz.sum()
    return (s @ s - n) / (n * n - n)
def rsvd(A, k=16, p=10, q=2):
    Y = A @ rng.standard_normal((A.shape[1], k + p)).astype(np.float32)
    for _ in range(q):
        Y, _ = np.linalg.qr(Y); Z = A.T @ Y; Z, _ = np.linalg.qr(Z); Y = A @ Z
    Y, _ = np.linalg.qr(Y); B = Y.T @ A
    return np.linalg.svd(B, full_matrices=False)[1][:k]
t0 = time.perf_counter()
ratios = []
for i in range(layers):
    A = tensor(pattern.replace('{i}', str(i)))
    if rows_axis == 'cols': A = np.ascontiguousarray(A.T)
    p = pcs(A); s = rsvd(A); ratios.append(float(s[0] / s[1]))
print(json.dumps({"seconds": time.perf_counter() - t0, "sigmaRatios": ratios}))
`;

export function numpyScanSeconds(files: readonly string[], tensorPattern: string, layers: number, rowsAxis: 'rows' | 'cols'): { seconds: number; sigmaRatios: number[] } | null {
  try {
    const env = { ...process.env };
    delete env['OPENBLAS_CORETYPE'];
    delete env['OPENBLAS_L2_SIZE'];
    const out = execFileSync('python3', ['-c', SCRIPT, tensorPattern, String(layers), rowsAxis, JSON.stringify(files)], { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 1 << 24 });
    return JSON.parse(out) as { seconds: number; sigmaRatios: number[] };
  } catch {
    return null;
  }
}
