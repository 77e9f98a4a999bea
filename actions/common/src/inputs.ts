// Typed readers for action inputs. Only an action's own inputs.ts calls these: every message
// names the input, and a bad value fails before the engine changes anything.
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import * as core from '@actions/core';
import { InputError, parseDuration } from '@adci/common/basics';

/** The checkout the job works in: relative paths in inputs are resolved against it. */
export function workspaceDir(): string {
  return process.env.GITHUB_WORKSPACE || process.cwd();
}

/** A password in a URL (basic auth) is a secret like a token: masked the moment it is read. */
export function maskUrlPassword(url: string | undefined): void {
  if (!url) return;
  try {
    const password = decodeURIComponent(new URL(url).password);
    if (password) core.setSecret(password);
  } catch {
    // not a URL: the settings builder says so, naming the input
  }
}

/** Raw input, trimmed; '' when absent. */
export function readString(name: string): string {
  return core.getInput(name).trim();
}

/** Raw multi-line input without trimming each line's content (templates, YAML). */
export function readText(name: string): string {
  return core.getInput(name, { trimWhitespace: false });
}

/** A secret input: masked in the log the moment it is read. */
export function readSecret(name: string, envFallback?: string): string {
  const value = readString(name) || (envFallback ? (process.env[envFallback] ?? '').trim() : '');
  if (value) core.setSecret(value);
  return value;
}

export function readBoolean(name: string, fallback: boolean): boolean {
  const value = readString(name).toLowerCase();
  if (value === '') return fallback;
  if (['true', 'yes', '1', 'on'].includes(value)) return true;
  if (['false', 'no', '0', 'off'].includes(value)) return false;
  throw new InputError(name, `'${value}' is not a boolean (use true or false)`);
}

export function readDuration(name: string, fallback: string): number {
  return parseDuration(readString(name) || fallback, name);
}

export function readEnum<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
  const value = (readString(name) || fallback).toLowerCase() as T;
  if (!allowed.includes(value)) {
    throw new InputError(name, `'${value}' is not one of ${allowed.join(', ')}`);
  }
  return value;
}

export function readInteger(name: string, fallback: number, min = 0): number {
  const text = readString(name);
  if (text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) throw new InputError(name, `'${text}' is not an integer >= ${min}`);
  return value;
}

/** A YAML/JSON mapping of names to strings. */
export async function readStringMap(name: string): Promise<Record<string, string>> {
  const text = readText(name);
  if (text.trim() === '') return {};
  // Loaded on demand: the YAML parser is most of a step's start-up cost.
  const { parseStringMap } = await import('@adci/common/structured');
  return parseStringMap(text, name);
}

/** Non-empty lines of a multi-line input (globs, lists). */
export function readLines(name: string): string[] {
  return readText(name)
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

/**
 * Reads the file an input names, relative paths taken from `baseDir` (the workspace);
 * undefined when the input is empty. An unreadable file is an input error naming both.
 */
export function readInputFile(name: string, baseDir: string): { file: string; text: string } | undefined {
  const file = readString(name);
  if (!file) return undefined;
  try {
    return { file, text: readFileSync(isAbsolute(file) ? file : join(baseDir, file), 'utf8') };
  } catch (error) {
    throw new InputError(name, `cannot read '${file}': ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}
