import { nativeGemmNT } from '../../native/nativeGemm';
import { nativeRuntimeError } from '../../native/onnxRuntimeNode';
import { useGemmKernel } from '../engine/gemm';

/**
 * Gives this thread's engine the native GEMM (onnxruntime-node), unless EDIT_FORENSICS_NATIVE=0 asks for the
 * TypeScript reference. Each worker thread calls it for itself. Returns a one-line description.
 */
export function useNativeEngine(threads = 1): string {
  if (process.env.EDIT_FORENSICS_NATIVE === '0') {
    useGemmKernel(null);
    return 'TypeScript GEMM (EDIT_FORENSICS_NATIVE=0)';
  }
  const kernel = nativeGemmNT(threads);
  useGemmKernel(kernel);
  return kernel ? `native GEMM (onnxruntime-node, ${threads} thread${threads > 1 ? 's' : ''})` : `TypeScript GEMM (onnxruntime-node unavailable: ${nativeRuntimeError()})`;
}
