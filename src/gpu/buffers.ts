/** Buffer helpers shared by the kernel dispatchers. */

export function storageBuffer(device: GPUDevice, data: Float32Array, label?: string): GPUBuffer {
  const buffer = device.createBuffer({
    label,
    size: Math.max(16, align4(data.byteLength)),
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC,
  });
  device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
  return buffer;
}

export function outputBuffer(device: GPUDevice, byteLength: number, label?: string): GPUBuffer {
  return device.createBuffer({
    label,
    size: Math.max(16, align4(byteLength)),
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
  });
}

/** A 16-byte uniform of four u32 values (every kernel's Params struct). */
export function paramsBuffer(device: GPUDevice, values: readonly number[]): GPUBuffer {
  const data = new Uint32Array(4);
  values.forEach((v, i) => {
    data[i] = v;
  });
  const buffer = device.createBuffer({ size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(buffer, 0, data);
  return buffer;
}

/** Binds buffers to bindings 0..n-1 of group 0 and records one dispatch. */
export function encodeDispatch(
  device: GPUDevice,
  encoder: GPUCommandEncoder,
  pipeline: GPUComputePipeline,
  buffers: readonly GPUBuffer[],
  workgroups: readonly [number, number?, number?],
): void {
  const bindGroup = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
  });
  const pass = encoder.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bindGroup);
  pass.dispatchWorkgroups(workgroups[0], workgroups[1] ?? 1, workgroups[2] ?? 1);
  pass.end();
}

/**
 * Finishes `encoder` with copies of each source into mappable buffers, submits, and returns the values.
 * One submission for all reads of a step keeps round trips few.
 */
export async function submitAndRead(
  device: GPUDevice,
  encoder: GPUCommandEncoder,
  sources: readonly { buffer: GPUBuffer; floats: number }[],
): Promise<Float32Array[]> {
  const stagings = sources.map(({ buffer, floats }) => {
    const size = Math.max(16, floats * 4);
    const staging = device.createBuffer({ size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    encoder.copyBufferToBuffer(buffer, 0, staging, 0, floats * 4);
    return staging;
  });
  device.queue.submit([encoder.finish()]);
  return Promise.all(
    stagings.map(async (staging, i) => {
      await staging.mapAsync(GPUMapMode.READ);
      const floats = (sources[i] as { floats: number }).floats;
      const out = new Float32Array(staging.getMappedRange(0, Math.max(16, floats * 4)).slice(0, floats * 4));
      staging.unmap();
      staging.destroy();
      return out;
    }),
  );
}

export function destroyAll(buffers: readonly GPUBuffer[]): void {
  for (const b of buffers) b.destroy();
}

export function align4(n: number): number {
  return Math.ceil(n / 4) * 4;
}
