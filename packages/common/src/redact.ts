// Keeps secrets out of anything shown: every engine output that may echo user data passes here.
//
// Two kinds of secrets are removed:
// - values registered with `add` (header values, tokens read from the environment), wherever
//   they appear;
// - secrets carried by URLs, found by shape in any text (`redactUrlSecrets`): the userinfo of
//   `scheme://user:password@host` becomes `***`, and the value of every query or fragment
//   parameter whose name looks like a secret (`isSecretParameterName`) becomes `***`:
//   `https://ci:pw@host/path?token=abc&page=2` -> `https://***@host/path?token=***&page=2`.

import type { Logger } from './ports.ts';

/** A word of a parameter name ending in one of these (optionally plural) makes it secret. */
const SECRET_SUFFIXES = ['token', 'key', 'secret', 'signature', 'password', 'passwd', 'sessionid', 'sessid'];
/** A word of a parameter name equal to one of these makes it secret. */
const SECRET_WORDS = new Set(['sig', 'pwd', 'pass', 'auth', 'jwt', 'credential', 'credentials']);

/**
 * Whether a query (or fragment) parameter name looks like it carries a secret. The name is
 * decoded as a form field (`api%5Fkey` is `api_key`), split into words at every character that is
 * not a letter or digit and where a lower-case letter or digit meets an upper-case one
 * (`accessToken` -> access, token), then compared without case (trailing digits ignored). It is
 * secret when a word ends with token, key, secret, signature, password, passwd, sessionid or
 * sessid (or their plural: `token`, `access_token`, `apikey`, `X-Amz-Signature`, `client_secret`,
 * `jsessionid`), or is sig, pwd, pass, auth, jwt or credential(s). `page`, `sort`, `signup` or
 * `design` are not.
 */
export function isSecretParameterName(raw: string): boolean {
  // The WHATWG form decoding: percent escapes and '+', lenient on malformed escapes.
  const name = new URLSearchParams(`${raw}=`).keys().next().value ?? raw;
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .map((word) => word.replace(/\d+$/, ''))
    .filter(Boolean);
  return words.some(
    (word) => SECRET_WORDS.has(word) || SECRET_SUFFIXES.some((s) => word.endsWith(s) || word.endsWith(`${s}s`)),
  );
}

// `scheme://userinfo@`: the authority runs to the first / ? # \ (as the WHATWG parser reads
// special schemes), whitespace, quote or angle bracket; the userinfo to its last '@'.
const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#\\"'<>`]*@/gi;
// A parameter after ? & ; # (or &amp; in XML and HTML): name=value. The value runs to the next
// separator, whitespace, quote, angle bracket or backslash (so JSON and XML escapes stay whole).
const PARAMETER = /(\?|&amp;|&|;|#)([^\s=&;#?"'<>`\\]+)=([^\s&;#"'<>`\\]*)/g;
// Punctuation that ends a sentence rather than a value: `...?token=abc.` keeps its full stop.
const TRAILING = /[.,:!?)\]}]+$/;

/**
 * The text with URL credentials (`user:password@`) and the values of secret-named query and
 * fragment parameters replaced by `***`. Works on URLs inside any text (log lines, error messages,
 * JSON, XML, Markdown) and on bare paths (`/items?token=abc`); everything else is kept as it is.
 * Idempotent: redacting twice gives the same text.
 */
export function redactUrlSecrets(text: string): string {
  if (!text.includes('=') && !text.includes('@')) return text;
  return text
    .replace(USERINFO, (_match, scheme: string) => `${scheme}***@`)
    .replace(PARAMETER, (match, separator: string, name: string, value: string) => {
      if (value === '' || value === '***' || !isSecretParameterName(name)) return match;
      const trailing = TRAILING.exec(value)?.[0] ?? '';
      if (trailing.length === value.length) return match;
      return `${separator}${name}=***${trailing}`;
    });
}

/** URL-derived values shorter than this are not masked away from URLs (`?key=test`, `u:pass@`). */
const MIN_URL_SECRET = 8;

/**
 * The secret values a URL carries, to register with `Redactor.add` so that they are masked even
 * away from the URL (an error page echoing them): the password, as written and decoded, the Basic
 * credential an HTTP client builds from the userinfo, and the values of secret-named query and
 * fragment parameters. Values shorter than 8 characters are left out: masking `test` or `pass`
 * everywhere would blank ordinary words; inside URLs `redactUrlSecrets` catches them anyway.
 */
export function urlSecrets(url: URL | string): string[] {
  let parsed: URL;
  try {
    parsed = typeof url === 'string' ? new URL(url) : url;
  } catch {
    return [];
  }
  const secrets: string[] = [];
  const decode = (text: string): string => {
    try {
      return decodeURIComponent(text);
    } catch {
      return text;
    }
  };
  if (parsed.password) secrets.push(parsed.password, decode(parsed.password));
  if (parsed.username || parsed.password) {
    const basic = `${decode(parsed.username)}:${decode(parsed.password)}`;
    secrets.push(Buffer.from(basic).toString('base64'));
  }
  for (const part of `${parsed.search.slice(1)}&${parsed.hash.slice(1)}`.split('&')) {
    const at = part.indexOf('=');
    if (at <= 0 || !isSecretParameterName(part.slice(0, at))) continue;
    const value = part.slice(at + 1);
    secrets.push(value, new URLSearchParams(`v=${value}`).get('v') ?? value);
  }
  return [...new Set(secrets.filter((secret) => secret.length >= MIN_URL_SECRET))];
}

export class Redactor {
  private readonly secrets = new Set<string>();

  add(secret: string | undefined): void {
    // Very short values would blank out ordinary text; the runner ignores them too.
    if (secret && secret.length >= 4) this.secrets.add(secret);
  }

  /** Registers the secrets a URL carries (`urlSecrets`), so they are masked even away from the URL. */
  addUrl(url: URL | string): void {
    for (const secret of urlSecrets(url)) this.add(secret);
  }

  redact(text: string): string {
    let out = text;
    // Longest first so a secret containing another is removed whole.
    for (const secret of [...this.secrets].sort((a, b) => b.length - a.length)) {
      out = out.split(secret).join('***');
    }
    return redactUrlSecrets(out);
  }
}

/** A logger whose every line passes through the redactor first. */
export function redactingLogger(logger: Logger, redactor: Redactor): Logger {
  return {
    debug: (m) => logger.debug(redactor.redact(m)),
    info: (m) => logger.info(redactor.redact(m)),
    warning: (m) => logger.warning(redactor.redact(m)),
    error: (m) => logger.error(redactor.redact(m)),
  };
}
