// Cosine-similarity matrix of a block of rows X [count x cols]: C[a][b] = (x_a . x_b) * inv_a * inv_b,
// with inverse_norms from pcs_row_norms.wgsl (0 for zero rows, so they give 0). 16 x 16 output tiles,
// both operands staged through workgroup memory. Reference: cosineBlock in src/core/pairwiseCosine.ts.

const TILE: u32 = 16u;

struct Params {
  count: u32,
  cols: u32,
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(0) var<storage, read> block: array<f32>;
@group(0) @binding(1) var<storage, read> inverse_norms: array<f32>;
@group(0) @binding(2) var<storage, read_write> cosine: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

var<workgroup> tile_r: array<array<f32, 16>, 16>;
var<workgroup> tile_c: array<array<f32, 16>, 16>;

fn load(row: u32, k: u32) -> f32 {
  if (row >= params.count || k >= params.cols) {
    return 0.0;
  }
  return block[row * params.cols + k];
}

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let row = wg.y * TILE + lid.y;
  let col = wg.x * TILE + lid.x;
  var acc = 0.0;
  let steps = (params.cols + TILE - 1u) / TILE;
  for (var t = 0u; t < steps; t = t + 1u) {
    tile_r[lid.y][lid.x] = load(row, t * TILE + lid.x);
    // tile_c[k][j] holds element k of row (wg.x * TILE + j).
    tile_c[lid.y][lid.x] = load(wg.x * TILE + lid.x, t * TILE + lid.y);
    workgroupBarrier();
    for (var k = 0u; k < TILE; k = k + 1u) {
      acc = acc + tile_r[lid.y][k] * tile_c[k][lid.x];
    }
    workgroupBarrier();
  }
  if (row < params.count && col < params.count) {
    cosine[row * params.count + col] = acc * inverse_norms[row] * inverse_norms[col];
  }
}
