// release.yml's GitHub release: the npm tarball that was published, its SHA-256 checksum file and
// notes saying how to install and verify it, attached to a release for the tag through GitHub's REST
// API (GITHUB_API_URL, GITHUB_REPOSITORY, GITHUB_TOKEN). A re-run of a release reuses the release
// and uploads only what is missing; an asset of the same name with other content is an error.
// Usage: node scripts/github-release.ts <tag> <npm pack --json output file>
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

interface Packed {
  name: string;
  version: string;
  filename: string;
  integrity: string;
}

interface Release {
  id: number;
  html_url: string;
  upload_url: string;
  assets: { name: string; digest?: string | null }[];
}

export function releaseNotes(packed: Packed, tag: string, sha256: string, repository: string): string {
  const spec = `${packed.name}@${packed.version}`;
  return [
    `adci ${packed.version}: the \`${packed.name}\` package on the npm registry (published with provenance) and`,
    `the actions at \`${repository}/<action>@${tag}\` (the major tag moves with each release).`,
    '',
    '## Install the command (GitLab CI, Jenkins, a terminal)',
    '',
    '```sh',
    `npm install --no-save --no-audit --no-fund ${spec}`,
    `npx adci --version   # ${packed.version}`,
    '```',
    '',
    'It is one package with no dependencies and no install scripts (Node.js 22.19 or newer; 24 recommended).',
    '',
    '## Verify it',
    '',
    `- npm integrity (what the registry must serve for ${spec}): \`${packed.integrity}\``,
    `  (\`npm view ${spec} dist.integrity\`; the GitLab and Jenkins examples refuse another value).`,
    `- The same tarball is attached here, with its SHA-256 (\`${sha256}\`):`,
    '',
    '```sh',
    `sha256sum -c ${packed.filename}.sha256 && npm install --no-save ./${packed.filename}`,
    '```',
    '',
  ].join('\n');
}

async function api<T>(method: string, url: string, token: string, body?: Buffer | object, type?: string): Promise<T> {
  const response = await fetch(url, {
    method,
    headers: {
      accept: 'application/vnd.github+json',
      authorization: `Bearer ${token}`,
      'x-github-api-version': '2022-11-28',
      'user-agent': 'adci-release',
      ...(body ? { 'content-type': type ?? 'application/json' } : {}),
    },
    ...(body ? { body: Buffer.isBuffer(body) ? new Uint8Array(body) : JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  if (!response.ok) {
    const error = new Error(`${method} ${new URL(url).pathname}: ${response.status} ${text.slice(0, 500)}`);
    Object.assign(error, { status: response.status });
    throw error;
  }
  return JSON.parse(text) as T;
}

export async function publishGitHubRelease(options: {
  tag: string;
  packJson: string;
  apiUrl: string;
  repository: string;
  token: string;
  target?: string;
  log?: (line: string) => void;
}): Promise<Release> {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const packed = (JSON.parse(readFileSync(options.packJson, 'utf8')) as Packed[])[0];
  if (!packed) throw new Error(`${options.packJson}: no package`);
  if (`v${packed.version}` !== options.tag) throw new Error(`the tag ${options.tag} is not v${packed.version}`);
  const tarball = join(dirname(options.packJson), packed.filename);
  const content = readFileSync(tarball);
  const sha256 = createHash('sha256').update(content).digest('hex');
  const checksumFile = `${tarball}.sha256`;
  writeFileSync(checksumFile, `${sha256}  ${packed.filename}\n`);
  const base = `${options.apiUrl.replace(/\/$/, '')}/repos/${options.repository}`;

  let release: Release;
  try {
    release = await api<Release>('GET', `${base}/releases/tags/${encodeURIComponent(options.tag)}`, options.token);
    log(`release ${options.tag} exists (${release.html_url}): adding what is missing`);
  } catch (error) {
    if ((error as { status?: number }).status !== 404) throw error;
    release = await api<Release>('POST', `${base}/releases`, options.token, {
      tag_name: options.tag,
      ...(options.target ? { target_commitish: options.target } : {}),
      name: `adci ${packed.version}`,
      body: releaseNotes(packed, options.tag, sha256, options.repository),
      draft: false,
      prerelease: false,
      make_latest: 'true',
    });
    log(`created release ${options.tag}: ${release.html_url}`);
  }
  const uploadUrl = release.upload_url.replace(/\{[^}]*\}$/, '');
  for (const [file, type] of [
    [tarball, 'application/gzip'],
    [checksumFile, 'text/plain'],
  ] as const) {
    const name = basename(file);
    const data = readFileSync(file);
    const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
    const existing = release.assets.find((a) => a.name === name);
    if (existing) {
      if (existing.digest && existing.digest !== digest)
        throw new Error(`release ${options.tag} already has a different ${name} (${existing.digest}, not ${digest})`);
      log(`${name} is already attached`);
      continue;
    }
    await api('POST', `${uploadUrl}?name=${encodeURIComponent(name)}`, options.token, data, type);
    log(`attached ${name} (${data.length} bytes, ${digest})`);
  }
  return release;
}

if (import.meta.main) {
  const [tag, packJson] = process.argv.slice(2);
  const { GITHUB_API_URL, GITHUB_REPOSITORY, GITHUB_TOKEN, GITHUB_SHA } = process.env;
  if (!tag || !packJson || !GITHUB_REPOSITORY || !GITHUB_TOKEN) {
    process.stderr.write(
      'usage: GITHUB_REPOSITORY=o/r GITHUB_TOKEN=… node scripts/github-release.ts <tag> <npm pack --json file>\n',
    );
    process.exit(2);
  }
  await publishGitHubRelease({
    tag,
    packJson,
    apiUrl: GITHUB_API_URL ?? 'https://api.github.com',
    repository: GITHUB_REPOSITORY,
    token: GITHUB_TOKEN,
    ...(GITHUB_SHA ? { target: GITHUB_SHA } : {}),
  });
}
