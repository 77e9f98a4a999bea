// The error a report file raises when it cannot be read: it always names the file, and the line
// and column when the format has them, so the author can find the spot.

export class ReportError extends Error {
  readonly file: string;
  readonly line: number | undefined;
  readonly column: number | undefined;
  constructor(file: string, message: string, line?: number, column?: number) {
    super(`${file}: ${message}`);
    this.name = 'ReportError';
    this.file = file;
    this.line = line;
    this.column = column;
  }
}
