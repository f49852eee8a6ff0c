import cosineBlock from '../../shaders/cosine_block.wgsl?raw';
import matmul from '../../shaders/matmul.wgsl?raw';
import pcsRowNorms from '../../shaders/pcs_row_norms.wgsl?raw';
import pcsUnitRowSums from '../../shaders/pcs_unit_row_sums.wgsl?raw';

/** WGSL text of every kernel, from shaders/ (bundled by Vite; loaded by scripts/node-register.mjs in Node). */
export const SHADER_SOURCES = { pcsRowNorms, pcsUnitRowSums, matmul, cosineBlock } as const;
export type ShaderName = keyof typeof SHADER_SOURCES;
