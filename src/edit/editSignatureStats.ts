import { directionSplit } from '../core/editSignature';
import { rowMatrix } from '../core/matrix';
import { pairwiseCosine } from '../core/pairwiseCosine';
import { cpuOperator, randomizedSvd } from '../core/randomizedSvd';
import type { EditRecord } from './editBundle';
import { applyUpdate } from './rome';

/** The paper's per-edit signature (Fig. 2, Tab. 6) of W' = W + u lambda^T, W [rows x cols]. */
export interface EditSignature {
  sameDirectionFraction: number;
  pcsAfter: number;
  sigmaRatioAfter: number;
}

export async function editSignature(base: Float32Array, rows: number, cols: number, record: EditRecord): Promise<EditSignature> {
  const edited = rowMatrix(rows, cols, applyUpdate(base, record.u, record.lambda));
  const svd = await randomizedSvd(cpuOperator(edited), { k: 2, oversampling: 8, powerIterations: 4 });
  return {
    sameDirectionFraction: directionSplit(record.u).sameDirectionFraction,
    pcsAfter: pairwiseCosine(edited).pcs,
    sigmaRatioAfter: (svd.values[0] as number) / (svd.values[1] as number),
  };
}

