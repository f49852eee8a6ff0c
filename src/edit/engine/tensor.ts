/**
 * Reverse-mode autodiff over coarse ops: a Tensor is a Float32Array with a shape; a Graph records, per op,
 * a closure that adds the op's input gradients from its output gradient. Ops are whole-matrix operations,
 * so the tape costs nothing next to the arithmetic.
 */
export class Tensor {
  grad: Float32Array | null = null;

  constructor(
    readonly data: Float32Array,
    readonly shape: readonly number[],
    readonly requiresGrad = false,
  ) {
    const size = shape.reduce((a, b) => a * b, 1);
    if (size !== data.length) throw new RangeError(`tensor data has ${data.length} values, shape [${shape}] needs ${size}`);
  }

  static zeros(shape: readonly number[], requiresGrad = false): Tensor {
    return new Tensor(new Float32Array(shape.reduce((a, b) => a * b, 1)), shape, requiresGrad);
  }

  get size(): number {
    return this.data.length;
  }

  /** The gradient buffer, created zeroed on first use. */
  gradBuffer(): Float32Array {
    this.grad ??= new Float32Array(this.data.length);
    return this.grad;
  }

  /** Rows and columns of a tensor seen as a matrix over its last axis. */
  get rows(): number {
    return this.data.length / this.cols;
  }

  get cols(): number {
    return this.shape[this.shape.length - 1] ?? 1;
  }
}

export class Graph {
  private readonly steps: (() => void)[] = [];
  /** Tensors made by recorded ops: they carry gradients onward even though they are not parameters. */
  private readonly produced = new WeakSet<Tensor>();

  /** Whether gradients flow into `t` in this graph. */
  tracks(t: Tensor): boolean {
    return t.requiresGrad || this.produced.has(t);
  }

  /**
   * Wraps an op's result: when any input is tracked, the result is tracked too and `backward` runs (with the
   * result's gradient available) during `backward()`.
   */
  output(data: Float32Array, shape: readonly number[], inputs: readonly Tensor[], backward: (out: Tensor) => void): Tensor {
    const out = new Tensor(data, shape);
    if (inputs.some((t) => this.tracks(t))) {
      this.produced.add(out);
      this.steps.push(() => {
        if (out.grad) backward(out);
      });
    }
    return out;
  }

  /** Seeds d(loss)/d(loss) = 1 and runs every recorded step in reverse. */
  backward(loss: Tensor): void {
    if (loss.size !== 1) throw new Error('backward needs a scalar loss');
    loss.gradBuffer()[0] = 1;
    for (let i = this.steps.length - 1; i >= 0; i--) (this.steps[i] as () => void)();
  }
}
