/**
 * Every problem with user-supplied bytes becomes a FormatError that names the file (and tensor): the UI and
 * the CLI show its message as is.
 */
export class FormatError extends Error {
  readonly file: string;
  readonly tensor: string | undefined;

  constructor(file: string, problem: string, tensor?: string) {
    super(`${file}: ${tensor === undefined ? '' : `tensor "${tensor}": `}${problem}`);
    this.name = 'FormatError';
    this.file = file;
    this.tensor = tensor;
  }
}

/** Raised when the user cancels long work. */
export class CancelledError extends Error {
  constructor() {
    super('cancelled');
    this.name = 'CancelledError';
  }
}
