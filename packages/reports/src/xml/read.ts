// Reads an XML file through the scanner in fixed-size chunks, so memory does not grow with the
// file; a scan error is turned into one that names the file, line and column.
import { closeSync, openSync, readSync } from 'node:fs';
import { CHUNK_BYTES, readInChunks } from '../chunks.ts';
import { XmlScanError, XmlScanner, type XmlHandler } from './scanner.ts';
import { ReportError } from '../errors.ts';

/** Scans a whole file with `handler`; throws ReportError with line and column on bad input. */
export function scanXmlFile(path: string, handler: XmlHandler): void {
  const fd = openSync(path, 'r');
  const scanner = new XmlScanner(handler);
  try {
    readInChunks(fd, (bytes, ended) => {
      if (!ended) return scanner.scan(bytes);
      scanner.end(bytes);
      return bytes.length;
    });
  } catch (error) {
    if (error instanceof XmlScanError) {
      const { line, column } = locateOffset(fd, error.offset);
      throw new ReportError(path, `line ${line}, column ${column}: ${error.message}`, line, column);
    }
    throw error;
  } finally {
    closeSync(fd);
  }
}

/** Scans XML held in memory (tests, small inputs). */
export function scanXmlText(text: string, handler: XmlHandler, source = '<text>'): void {
  const scanner = new XmlScanner(handler);
  const bytes = Buffer.from(text, 'utf8');
  try {
    scanner.feed(bytes);
    scanner.end();
  } catch (error) {
    if (error instanceof XmlScanError) {
      const { line, column } = locateInBuffer(bytes, error.offset);
      throw new ReportError(source, `line ${line}, column ${column}: ${error.message}`, line, column);
    }
    throw error;
  }
}

/** Line and column (1-based, in characters) of a byte offset; only done when reporting an error. */
function locateOffset(fd: number, offset: number): { line: number; column: number } {
  const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  let line = 1;
  let lineStart = Buffer.alloc(0);
  let position = 0;
  while (position < offset) {
    const read = readSync(fd, chunk, 0, Math.min(CHUNK_BYTES, offset - position), position);
    if (read === 0) break;
    const part = chunk.subarray(0, read);
    const nl = part.lastIndexOf(0x0a);
    if (nl === -1) {
      lineStart = lineStart.length < 64 * 1024 ? Buffer.concat([lineStart, part]) : lineStart;
    } else {
      for (let i = part.indexOf(0x0a); i !== -1; i = part.indexOf(0x0a, i + 1)) line++;
      lineStart = Buffer.from(part.subarray(nl + 1));
    }
    position += read;
  }
  return { line, column: lineStart.toString('utf8').length + 1 };
}

function locateInBuffer(bytes: Buffer, offset: number): { line: number; column: number } {
  const before = bytes.subarray(0, Math.min(offset, bytes.length)).toString('utf8');
  const lines = before.split('\n');
  return { line: lines.length, column: (lines[lines.length - 1] ?? '').length + 1 };
}
