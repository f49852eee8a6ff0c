// Pass 2 of pcs: per chunk of CHUNK_ROWS rows, the column sums of the unit rows.
// Invocation (x = column, y = chunk) writes partial_sums[chunk * cols + column]; the host adds chunks in
// float64 and takes (||sum||^2 - n) / (n^2 - n). Reference: unitRowSumChunks in src/core/pairwiseCosine.ts.
// Neighbouring invocations read neighbouring columns of a row: coalesced on real GPUs, no barriers.

override CHUNK_ROWS: u32 = 256u;

struct Params {
  rows: u32,
  cols: u32,
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(0) var<storage, read> matrix: array<f32>;
@group(0) @binding(1) var<storage, read> inverse_norms: array<f32>;
@group(0) @binding(2) var<storage, read_write> partial_sums: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let column = gid.x;
  let chunk = gid.y;
  if (column >= params.cols) {
    return;
  }
  let first = chunk * CHUNK_ROWS;
  let last = min(params.rows, first + CHUNK_ROWS);
  var acc = 0.0;
  for (var r = first; r < last; r = r + 1u) {
    acc = acc + matrix[r * params.cols + column] * inverse_norms[r];
  }
  partial_sums[chunk * params.cols + column] = acc;
}
