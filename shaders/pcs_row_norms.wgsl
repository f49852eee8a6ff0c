// Pass 1 of pcs: reciprocal norm of each row (0 for a zero row), one invocation per row.
// Reference: inverseRowNorms in src/core/pairwiseCosine.ts.
// No workgroup barriers: they are very costly on software adapters and buy nothing here.

struct Params {
  rows: u32,
  cols: u32,
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(0) var<storage, read> matrix: array<f32>;
@group(0) @binding(1) var<storage, read_write> inverse_norms: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let row = gid.x;
  if (row >= params.rows) {
    return;
  }
  let base = row * params.cols;
  var s0 = 0.0;
  var s1 = 0.0;
  var c = 0u;
  loop {
    if (c + 1u >= params.cols) {
      break;
    }
    let a = matrix[base + c];
    let b = matrix[base + c + 1u];
    s0 = s0 + a * a;
    s1 = s1 + b * b;
    c = c + 2u;
  }
  if (c < params.cols) {
    let a = matrix[base + c];
    s0 = s0 + a * a;
  }
  let sq = s0 + s1;
  inverse_norms[row] = select(0.0, inverseSqrt(sq), sq > 0.0);
}
