// C = op(A) * B with op(A) [m x n], B [n x l], C [m x l], all row-major float32.
// TRANSPOSE_A = true reads A stored [n x m] (A^T * B): randomized SVD's A^T Q over a row tile of A.
// 16 x 16 output tiles staged through workgroup memory. Reference: multiply / multiplyTransposed in
// src/core/matmul.ts.

override TRANSPOSE_A: bool = false;
const TILE: u32 = 16u;

struct Params {
  m: u32,
  n: u32,
  l: u32,
  _pad: u32,
}

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

var<workgroup> tile_a: array<array<f32, 16>, 16>;
var<workgroup> tile_b: array<array<f32, 16>, 16>;

fn load_a(row: u32, k: u32) -> f32 {
  if (row >= params.m || k >= params.n) {
    return 0.0;
  }
  if (TRANSPOSE_A) {
    return a[k * params.m + row];
  }
  return a[row * params.n + k];
}

fn load_b(k: u32, col: u32) -> f32 {
  if (k >= params.n || col >= params.l) {
    return 0.0;
  }
  return b[k * params.l + col];
}

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let row = wg.y * TILE + lid.y;
  let col = wg.x * TILE + lid.x;
  var acc = 0.0;
  let steps = (params.n + TILE - 1u) / TILE;
  for (var t = 0u; t < steps; t = t + 1u) {
    if (TRANSPOSE_A) {
      // Swap the roles of lid.x and lid.y so neighbouring invocations read neighbouring addresses of A.
      tile_a[lid.x][lid.y] = load_a(wg.y * TILE + lid.x, t * TILE + lid.y);
    } else {
      tile_a[lid.y][lid.x] = load_a(row, t * TILE + lid.x);
    }
    tile_b[lid.y][lid.x] = load_b(t * TILE + lid.y, col);
    workgroupBarrier();
    for (var k = 0u; k < TILE; k = k + 1u) {
      acc = acc + tile_a[lid.y][k] * tile_b[k][lid.x];
    }
    workgroupBarrier();
  }
  if (row < params.m && col < params.l) {
    c[row * params.l + col] = acc;
  }
}
