// Turns a request spec into a concrete request: placeholders filled, path joined to the base URL,
// common headers merged, a `json` body serialised with its content type.
import { fillTemplate, fillTemplateDeep, type TemplateLookup } from '@adci/common';
import type { LoadRequest } from './http.ts';
import type { RequestSpec } from './types.ts';

/**
 * Credentials written in a URL (`https://user:password@host/`) are sent as HTTP Basic
 * authorization, as curl does, unless the request has its own `authorization` header: the
 * connection is made to the URL's origin, which leaves them out. `headers` has lower-case names.
 */
export function withUrlCredentials(url: URL, headers: Record<string, string>): Record<string, string> {
  if ((url.username === '' && url.password === '') || headers.authorization !== undefined) return headers;
  const decode = (text: string): string => {
    try {
      return decodeURIComponent(text);
    } catch {
      return text;
    }
  };
  const credential = Buffer.from(`${decode(url.username)}:${decode(url.password)}`).toString('base64');
  return { ...headers, authorization: `Basic ${credential}` };
}

export interface BuiltRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: string;
}

/** Joins a path to a base URL, keeping the base's own path prefix (`http://h/api` + `/x` -> `/api/x`). */
export function joinUrl(baseUrl: URL, path: string): URL {
  const prefix = baseUrl.pathname.replace(/\/+$/, '');
  const url = new URL(baseUrl.href);
  const [pathname = '', search] = path.split(/\?(.*)/s, 2);
  url.pathname = `${prefix}${pathname.startsWith('/') ? '' : '/'}${pathname}`;
  url.search = search ? `?${search}` : '';
  url.hash = '';
  return url;
}

/** Throws `unknown placeholder {{ x }}` when a name has no value (a capture that did not happen). */
export function buildRequest(
  spec: RequestSpec,
  baseUrl: URL,
  commonHeaders: Record<string, string>,
  lookup: TemplateLookup,
): BuiltRequest {
  const fill = (text: string): string => fillTemplate(text, lookup);
  const url = spec.url !== undefined ? new URL(fill(spec.url)) : joinUrl(baseUrl, fill(spec.path ?? '/'));
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`'${url.href}' is not an http(s) URL`);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(commonHeaders)) headers[name.toLowerCase()] = fill(value);
  for (const [name, value] of Object.entries(spec.headers)) headers[name.toLowerCase()] = fill(value);
  const built: BuiltRequest = { method: spec.method, url, headers: withUrlCredentials(url, headers) };
  if (spec.json !== undefined) {
    built.body = JSON.stringify(fillTemplateDeep(spec.json, lookup));
    built.headers['content-type'] ??= 'application/json';
  } else if (spec.body !== undefined) {
    built.body = fill(spec.body);
  }
  return built;
}

/** A built request as the load phase sends it: origin, path with query, method, headers, body. */
export function loadRequestOf(built: BuiltRequest): LoadRequest {
  const request: LoadRequest = {
    origin: built.url.origin,
    path: `${built.url.pathname}${built.url.search}`,
    method: built.method,
    headers: built.headers,
  };
  if (built.body !== undefined) request.body = built.body;
  return request;
}
