// The one size parser: "4MiB", "512KiB", "1.5MiB", "1048576" (bytes). Units are binary only, so a
// size means one thing: `4MB` is refused with a hint rather than read as 4,000,000 or 4,194,304.
import { InputError } from './errors.ts';

const UNIT_BYTES: Record<string, number> = { b: 1, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 };

/** Parses a size into bytes (a whole number >= 1, at most `max`); `input` names the setting in errors. */
export function parseByteSize(value: string | number, input = 'size', max = Number.MAX_SAFE_INTEGER): number {
  const text = String(value).trim();
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text);
  const unit = match?.[2]?.toLowerCase() ?? '';
  const factor = unit === '' ? 1 : UNIT_BYTES[unit];
  if (!match || factor === undefined) {
    const hint = /^(\d+(?:\.\d+)?)\s*([kmg])b?$/i.exec(text);
    throw new InputError(
      input,
      text === ''
        ? 'empty size (use e.g. 4MiB, 512KiB or a number of bytes)'
        : `'${text}' is not a size (use e.g. 4MiB, 512KiB or a number of bytes${
            hint ? `; units are binary: ${hint[1]}${(hint[2] as string).toUpperCase()}iB` : ''
          })`,
    );
  }
  const bytes = Math.floor(Number(match[1]) * factor);
  if (bytes < 1) throw new InputError(input, `'${text}' is less than 1 byte`);
  if (bytes > max) throw new InputError(input, `'${text}' is more than the largest allowed, ${formatBytes(max)}`);
  return bytes;
}

/** Short rendering of a size: 4 MiB, 512 KiB, 1.5 MiB, 900 bytes. */
export function formatBytes(bytes: number): string {
  for (const [unit, size] of [
    ['GiB', 1024 ** 3],
    ['MiB', 1024 ** 2],
    ['KiB', 1024],
  ] as const) {
    if (bytes >= size) return `${Number((bytes / size).toFixed(2))} ${unit}`;
  }
  return `${bytes} ${bytes === 1 ? 'byte' : 'bytes'}`;
}
