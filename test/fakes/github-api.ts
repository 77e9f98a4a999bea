// A local server that behaves like GitHub's REST API for the issue-comment endpoints the
// quality gate uses: list (paginated with Link headers), create, update; the deployments the deploy
// workflow records; and the releases release.yml makes (create, get by tag, upload and list assets,
// the upload on the same server, as `upload_url` says). Every request is
// checked against GitHub's official OpenAPI description (@octokit/openapi) with ajv — path,
// query parameters and body — and so is every response the fake sends, so the fake cannot
// drift from the real API unnoticed. Violations are recorded for the tests to assert on.
import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import Ajv from 'ajv';

interface Operation {
  method: string;
  template: string;
  pattern: RegExp;
  names: string[];
  spec: {
    operationId?: string;
    parameters?: { name: string; in: string; required?: boolean; schema?: object; $ref?: string }[];
    requestBody?: { required?: boolean; content?: Record<string, { schema?: object }> };
    responses?: Record<string, { content?: Record<string, { schema?: object }>; $ref?: string }>;
  };
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  body: unknown;
  operationId?: string;
  /** 0 when the connection was reset instead of answered (a scripted fault). */
  status: number;
  /** performance.now() when the request arrived. */
  at: number;
}

/** An answer GitHub gives when it is unwell, served instead of the normal one (see `fail`). */
export interface FakeFault {
  status?: number;
  body?: string;
  /** Default application/json; GitHub's 5xx pages are text/html. */
  contentType?: string;
  headers?: Record<string, string>;
  /** Close the connection without an answer (a network error). */
  reset?: boolean;
}

export interface FakeComment {
  id: number;
  body: string;
  login: string;
  created_at: string;
  updated_at: string;
}

export interface FakeGitHub {
  /** Base URL for GITHUB_API_URL. */
  url: string;
  token: string;
  requests: RecordedRequest[];
  /** Requests or responses that do not match GitHub's OpenAPI description. */
  violations: string[];
  comments(issue: number): FakeComment[];
  /** Deployments (newest last) with their statuses (oldest first), as GitHub keeps them. */
  deployments(): FakeDeployment[];
  /** Releases (oldest first) with their uploaded assets. */
  releases(): FakeRelease[];
  /** Adds comments by other users, e.g. to push the gate's own past the first page. */
  seed(issue: number, count: number, body?: (i: number) => string, login?: string): void;
  /** The next requests, whatever their endpoint, get these answers in order (5xx, 429, resets). */
  fail(...faults: FakeFault[]): void;
  /** 'read' makes writes fail with 403 as a fork pull request's token does. */
  permission: 'write' | 'read';
  reset(): void;
  close(): Promise<void>;
}

export interface FakeReleaseAsset {
  id: number;
  name: string;
  label: string;
  content_type: string;
  content: Buffer;
  created_at: string;
}

export interface FakeRelease {
  id: number;
  tag_name: string;
  target_commitish: string;
  name: string;
  body: string;
  draft: boolean;
  prerelease: boolean;
  make_latest: string;
  created_at: string;
  assets: FakeReleaseAsset[];
}

export interface FakeDeploymentStatus {
  id: number;
  state: string;
  description: string;
  environment: string;
  environment_url: string;
  log_url: string;
  created_at: string;
}

export interface FakeDeployment {
  id: number;
  sha: string;
  ref: string;
  task: string;
  environment: string;
  description: string | null;
  payload: unknown;
  transient_environment: boolean;
  production_environment: boolean;
  created_at: string;
  statuses: FakeDeploymentStatus[];
}

type Spec = {
  paths: Record<string, Record<string, Operation['spec']>>;
  components: Record<string, Record<string, unknown>>;
};

let cachedSpec: Spec | undefined;
function loadSpec(): Spec {
  const require = createRequire(import.meta.url);
  const file = require.resolve('@octokit/openapi/generated/api.github.com.json');
  cachedSpec ??= JSON.parse(readFileSync(file, 'utf8')) as Spec;
  return cachedSpec;
}

/** Inlines local $refs (the schemas used here have no cycles; depth guards against one). */
function deref(value: unknown, spec: Spec, depth = 0): unknown {
  if (depth > 40) return {};
  if (Array.isArray(value)) return value.map((v) => deref(v, spec, depth + 1));
  if (!value || typeof value !== 'object') return value;
  const ref = (value as { $ref?: unknown }).$ref;
  if (typeof ref === 'string' && ref.startsWith('#/')) {
    let target: unknown = spec;
    for (const part of ref.slice(2).split('/')) target = (target as Record<string, unknown>)[part];
    return deref(target, spec, depth + 1);
  }
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, deref(v, spec, depth + 1)]));
}

function operations(spec: Spec, wanted: readonly string[]): Operation[] {
  const out: Operation[] = [];
  for (const template of wanted) {
    const item = spec.paths[template];
    if (!item) throw new Error(`the OpenAPI description has no path ${template}`);
    const names: string[] = [];
    const pattern = new RegExp(
      `^${template.replace(/\{(\w+)\}/g, (_, name: string) => {
        names.push(name);
        return '([^/]+)';
      })}$`,
    );
    for (const [method, op] of Object.entries(item)) {
      if (!['get', 'post', 'patch', 'put', 'delete'].includes(method)) continue;
      out.push({ method: method.toUpperCase(), template, pattern, names, spec: deref(op, spec) as Operation['spec'] });
    }
  }
  return out;
}

const SERVED = [
  '/repos/{owner}/{repo}/issues/{issue_number}/comments',
  '/repos/{owner}/{repo}/issues/comments/{comment_id}',
  '/repos/{owner}/{repo}/deployments',
  '/repos/{owner}/{repo}/deployments/{deployment_id}/statuses',
  '/repos/{owner}/{repo}/releases',
  '/repos/{owner}/{repo}/releases/tags/{tag}',
  '/repos/{owner}/{repo}/releases/{release_id}/assets',
];

export async function startFakeGitHub(options: { owner: string; repo: string; token?: string }): Promise<FakeGitHub> {
  const spec = loadSpec();
  const ops = operations(spec, SERVED);
  const ajv = new Ajv({ nullable: true, unknownFormats: 'ignore', allErrors: true, schemaId: 'auto', logger: false });
  const validators = new Map<object, Ajv.ValidateFunction>();
  const check = (schema: object, value: unknown, what: string, violations: string[]): boolean => {
    let validate = validators.get(schema);
    if (!validate) {
      validate = ajv.compile(schema);
      validators.set(schema, validate);
    }
    if (validate(value)) return true;
    violations.push(`${what}: ${ajv.errorsText(validate.errors)}`);
    return false;
  };

  const token = options.token ?? 'ghs_fakeTokenForQualityGateTests0001';
  const issues = new Map<number, FakeComment[]>();
  let deployments: FakeDeployment[] = [];
  let releases: FakeRelease[] = [];
  let nextId = 1000;
  const state = {
    requests: [] as RecordedRequest[],
    violations: [] as string[],
    permission: 'write' as 'write' | 'read',
    faults: [] as FakeFault[],
  };
  let baseUrl = '';

  const userJson = (login: string) => ({
    login,
    id: login === 'github-actions[bot]' ? 41898282 : 583231,
    node_id: 'MDQ6VXNlcjE=',
    avatar_url: 'https://avatars.githubusercontent.com/u/41898282?v=4',
    gravatar_id: '',
    url: `${baseUrl}/users/${encodeURIComponent(login)}`,
    html_url: `https://github.com/${encodeURIComponent(login)}`,
    followers_url: `${baseUrl}/users/x/followers`,
    following_url: `${baseUrl}/users/x/following{/other_user}`,
    gists_url: `${baseUrl}/users/x/gists{/gist_id}`,
    starred_url: `${baseUrl}/users/x/starred{/owner}{/repo}`,
    subscriptions_url: `${baseUrl}/users/x/subscriptions`,
    organizations_url: `${baseUrl}/users/x/orgs`,
    repos_url: `${baseUrl}/users/x/repos`,
    events_url: `${baseUrl}/users/x/events{/privacy}`,
    received_events_url: `${baseUrl}/users/x/received_events`,
    type: login.endsWith('[bot]') ? 'Bot' : 'User',
    site_admin: false,
  });
  const commentJson = (c: FakeComment, issue: number) => {
    const repoUrl = `${baseUrl}/repos/${options.owner}/${options.repo}`;
    const htmlRepo = `https://github.com/${options.owner}/${options.repo}`;
    return {
      id: c.id,
      node_id: `IC_kwDO${c.id}`,
      url: `${repoUrl}/issues/comments/${c.id}`,
      html_url: `${htmlRepo}/pull/${issue}#issuecomment-${c.id}`,
      body: c.body,
      user: userJson(c.login),
      created_at: c.created_at,
      updated_at: c.updated_at,
      issue_url: `${repoUrl}/issues/${issue}`,
      author_association: c.login.endsWith('[bot]') ? 'NONE' : 'MEMBER',
    };
  };

  const repoApi = () => `${baseUrl}/repos/${options.owner}/${options.repo}`;
  const deploymentJson = (d: FakeDeployment) => ({
    url: `${repoApi()}/deployments/${d.id}`,
    id: d.id,
    node_id: `DE_kwDO${d.id}`,
    sha: d.sha,
    ref: d.ref,
    task: d.task,
    payload: d.payload,
    original_environment: d.environment,
    environment: d.environment,
    description: d.description,
    creator: userJson('github-actions[bot]'),
    created_at: d.created_at,
    updated_at: d.statuses.at(-1)?.created_at ?? d.created_at,
    statuses_url: `${repoApi()}/deployments/${d.id}/statuses`,
    repository_url: repoApi(),
    transient_environment: d.transient_environment,
    production_environment: d.production_environment,
  });
  const statusJson = (d: FakeDeployment, st: FakeDeploymentStatus) => ({
    url: `${repoApi()}/deployments/${d.id}/statuses/${st.id}`,
    id: st.id,
    node_id: `DES_kwDO${st.id}`,
    state: st.state,
    creator: userJson('github-actions[bot]'),
    description: st.description,
    environment: st.environment,
    target_url: st.log_url,
    created_at: st.created_at,
    updated_at: st.created_at,
    deployment_url: `${repoApi()}/deployments/${d.id}`,
    repository_url: repoApi(),
    // Not set is left out: the description types it as a URI, which '' is not.
    ...(st.environment_url ? { environment_url: st.environment_url } : {}),
    log_url: st.log_url,
  });

  const assetJson = (a: FakeReleaseAsset) => ({
    url: `${repoApi()}/releases/assets/${a.id}`,
    browser_download_url: `https://github.com/${options.owner}/${options.repo}/releases/download/${encodeURIComponent(
      releases.find((r) => r.assets.includes(a))?.tag_name ?? '',
    )}/${encodeURIComponent(a.name)}`,
    id: a.id,
    node_id: `RA_kwDO${a.id}`,
    name: a.name,
    label: a.label || null,
    state: 'uploaded',
    content_type: a.content_type,
    size: a.content.length,
    digest: `sha256:${createHash('sha256').update(a.content).digest('hex')}`,
    download_count: 0,
    created_at: a.created_at,
    updated_at: a.created_at,
    uploader: userJson('github-actions[bot]'),
  });
  const releaseJson = (r: FakeRelease) => ({
    url: `${repoApi()}/releases/${r.id}`,
    html_url: `https://github.com/${options.owner}/${options.repo}/releases/tag/${encodeURIComponent(r.tag_name)}`,
    assets_url: `${repoApi()}/releases/${r.id}/assets`,
    // GitHub answers with uploads.github.com; this fake serves the uploads itself.
    upload_url: `${repoApi()}/releases/${r.id}/assets{?name,label}`,
    tarball_url: `${repoApi()}/tarball/${encodeURIComponent(r.tag_name)}`,
    zipball_url: `${repoApi()}/zipball/${encodeURIComponent(r.tag_name)}`,
    id: r.id,
    node_id: `RE_kwDO${r.id}`,
    tag_name: r.tag_name,
    target_commitish: r.target_commitish,
    name: r.name,
    body: r.body,
    draft: r.draft,
    prerelease: r.prerelease,
    created_at: r.created_at,
    published_at: r.draft ? null : r.created_at,
    author: userJson('github-actions[bot]'),
    assets: r.assets.map(assetJson),
  });

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const query = Object.fromEntries(url.searchParams);
      const raw = Buffer.concat(chunks).toString('utf8');
      const at = performance.now();
      let body: unknown;
      const record = (status: number, operationId?: string): void => {
        state.requests.push({
          method: req.method ?? '',
          path: url.pathname,
          query,
          headers: req.headers,
          body,
          operationId,
          status,
          at,
        });
      };
      const fault = state.faults.shift();
      if (fault) {
        if (fault.reset) {
          record(0);
          req.socket.destroy();
          return;
        }
        const status = fault.status ?? 500;
        res.writeHead(status, {
          'content-type': fault.contentType ?? 'application/json; charset=utf-8',
          ...fault.headers,
        });
        res.end(fault.body ?? '');
        record(status);
        return;
      }
      const send = (
        res2: ServerResponse,
        status: number,
        payload: unknown,
        op?: Operation,
        headers: Record<string, string> = {},
      ) => {
        const schema = op?.spec.responses?.[String(status)]?.content?.['application/json']?.schema;
        if (op && status < 300 && !schema)
          state.violations.push(`${op.method} ${op.template}: no ${status} response in the description`);
        if (schema) check(schema, payload, `response ${status} of ${op?.method} ${op?.template}`, state.violations);
        res2.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
        res2.end(JSON.stringify(payload));
        record(status, op?.spec.operationId);
      };
      // A release asset upload's body is the file itself.
      const upload = req.method === 'POST' && /\/releases\/\d+\/assets$/.test(url.pathname);
      try {
        body = upload ? Buffer.concat(chunks) : raw ? JSON.parse(raw) : undefined;
      } catch {
        state.violations.push(`${req.method} ${url.pathname}: body is not JSON`);
        return send(res, 400, { message: 'Problems parsing JSON' });
      }
      const op = ops.find((o) => o.method === req.method && o.pattern.test(url.pathname));
      if (!op) {
        state.violations.push(`${req.method} ${url.pathname}: not an endpoint this fake serves`);
        return send(res, 404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' });
      }
      const auth = req.headers.authorization ?? '';
      if (auth !== `token ${token}` && auth !== `Bearer ${token}`) {
        return send(res, 401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' });
      }
      // Parameters as the description types them (path and query arrive as strings).
      const match = op.pattern.exec(url.pathname) as RegExpExecArray;
      const params: Record<string, string> = {};
      op.names.forEach((n, i) => (params[n] = decodeURIComponent(match[i + 1] ?? '')));
      let valid = true;
      for (const p of op.spec.parameters ?? []) {
        const value = p.in === 'path' ? params[p.name] : p.in === 'query' ? query[p.name] : undefined;
        if (value === undefined) {
          if (p.required && p.in !== 'header') {
            state.violations.push(`${op.method} ${op.template}: missing ${p.in} parameter ${p.name}`);
            valid = false;
          }
          continue;
        }
        const schema = p.schema as { type?: string } | undefined;
        const typed = schema?.type === 'integer' || schema?.type === 'number' ? Number(value) : value;
        if (
          schema &&
          !check(schema, typed, `${op.method} ${op.template} ${p.in} parameter ${p.name}`, state.violations)
        ) {
          valid = false;
        }
      }
      for (const name of Object.keys(query)) {
        if (!(op.spec.parameters ?? []).some((p) => p.name === name && p.in === 'query')) {
          state.violations.push(`${op.method} ${op.template}: unknown query parameter ${name}`);
          valid = false;
        }
      }
      const bodySchema = op.spec.requestBody?.content?.['application/json']?.schema;
      if (op.spec.requestBody?.content?.['application/octet-stream']) {
        if (req.headers['content-type'] !== 'application/octet-stream' && !req.headers['content-type']?.includes('/')) {
          state.violations.push(`${op.method} ${op.template}: no Content-Type for the uploaded file`);
          valid = false;
        }
        if (!Buffer.isBuffer(body) || body.length === 0) {
          state.violations.push(`${op.method} ${op.template}: an empty upload`);
          valid = false;
        }
      } else if (bodySchema) {
        if (!check(bodySchema, body, `${op.method} ${op.template} body`, state.violations)) valid = false;
      } else if (body !== undefined) {
        state.violations.push(`${op.method} ${op.template}: takes no body`);
      }
      if (!valid)
        return send(res, 422, { message: 'Validation Failed', documentation_url: 'https://docs.github.com/rest' });
      if (params.owner !== options.owner || params.repo !== options.repo) {
        return send(res, 404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' });
      }
      const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      const forbidden = () =>
        send(res, 403, {
          message: 'Resource not accessible by integration',
          documentation_url: 'https://docs.github.com/rest/issues/comments#create-an-issue-comment',
        });
      if (op.template.includes('/deployments')) return deploymentsEndpoint(op, params, query, now);
      if (op.template.includes('/releases')) return releasesEndpoint(op, params, query, now);
      if (op.template.endsWith('{issue_number}/comments')) {
        const issue = Number(params.issue_number);
        const list = issues.get(issue) ?? [];
        if (op.method === 'GET') {
          const perPage = Math.min(Number(query.per_page ?? 30), 100);
          const page = Number(query.page ?? 1);
          const last = Math.max(1, Math.ceil(list.length / perPage));
          const link: string[] = [];
          const pageUrl = (n: number) => {
            const u = new URL(`${baseUrl}${url.pathname}`);
            u.searchParams.set('per_page', String(perPage));
            u.searchParams.set('page', String(n));
            return u.href;
          };
          if (page < last) link.push(`<${pageUrl(page + 1)}>; rel="next"`, `<${pageUrl(last)}>; rel="last"`);
          if (page > 1) link.push(`<${pageUrl(1)}>; rel="first"`, `<${pageUrl(page - 1)}>; rel="prev"`);
          const items = list.slice((page - 1) * perPage, page * perPage).map((c) => commentJson(c, issue));
          return send(res, 200, items, op, link.length ? { link: link.join(', ') } : {});
        }
        if (state.permission === 'read') return forbidden();
        const comment: FakeComment = {
          id: nextId++,
          body: (body as { body: string }).body,
          login: 'github-actions[bot]',
          created_at: now,
          updated_at: now,
        };
        list.push(comment);
        issues.set(issue, list);
        return send(res, 201, commentJson(comment, issue), op, {
          location: `${baseUrl}/repos/x/issues/comments/${comment.id}`,
        });
      }
      function releasesEndpoint(
        op: Operation,
        params: Record<string, string>,
        query: Record<string, string>,
        now: string,
      ): void {
        const notFound = () =>
          send(res, 404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest/releases' });
        if (op.template.endsWith('/releases')) {
          if (op.method === 'GET') return send(res, 200, [...releases].reverse().map(releaseJson), op);
          if (state.permission === 'read') return forbidden();
          const input = body as {
            tag_name: string;
            target_commitish?: string;
            name?: string;
            body?: string;
            draft?: boolean;
            prerelease?: boolean;
            make_latest?: string;
          };
          if (releases.some((r) => r.tag_name === input.tag_name))
            return send(res, 422, {
              message: 'Validation Failed',
              errors: [{ resource: 'Release', code: 'already_exists', field: 'tag_name' }],
              documentation_url: 'https://docs.github.com/rest/releases/releases#create-a-release',
            });
          const release: FakeRelease = {
            id: nextId++,
            tag_name: input.tag_name,
            target_commitish: input.target_commitish ?? 'main',
            name: input.name ?? input.tag_name,
            body: input.body ?? '',
            draft: input.draft ?? false,
            prerelease: input.prerelease ?? false,
            make_latest: input.make_latest ?? 'true',
            created_at: now,
            assets: [],
          };
          releases.push(release);
          return send(res, 201, releaseJson(release), op, { location: `${repoApi()}/releases/${release.id}` });
        }
        if (op.template.endsWith('/tags/{tag}')) {
          const release = releases.find((r) => r.tag_name === params.tag && !r.draft);
          return release ? send(res, 200, releaseJson(release), op) : notFound();
        }
        const release = releases.find((r) => r.id === Number(params.release_id));
        if (!release) return notFound();
        if (op.method === 'GET') return send(res, 200, release.assets.map(assetJson), op);
        if (state.permission === 'read') return forbidden();
        const name = query.name ?? '';
        if (release.assets.some((a) => a.name === name))
          return send(res, 422, {
            message: 'Validation Failed',
            errors: [{ resource: 'ReleaseAsset', code: 'already_exists', field: 'name' }],
            documentation_url: 'https://docs.github.com/rest/releases/assets#upload-a-release-asset',
          });
        const asset: FakeReleaseAsset = {
          id: nextId++,
          name,
          label: query.label ?? '',
          content_type: req.headers['content-type'] ?? 'application/octet-stream',
          content: body as Buffer,
          created_at: now,
        };
        release.assets.push(asset);
        return send(res, 201, assetJson(asset), op);
      }
      function deploymentsEndpoint(
        op: Operation,
        params: Record<string, string>,
        query: Record<string, string>,
        now: string,
      ): void {
        const unprocessable = (message: string) =>
          send(res, 422, {
            message: 'Validation Failed',
            errors: [{ resource: 'DeploymentStatus', code: 'custom', message }],
            documentation_url: 'https://docs.github.com/rest/deployments',
          });
        if (op.template.endsWith('/deployments')) {
          if (op.method === 'GET') {
            const perPage = Math.min(Number(query.per_page ?? 30), 100);
            const matching = deployments
              .filter((d) => (query.sha ? d.sha === query.sha : true))
              .filter((d) => (query.ref ? d.ref === query.ref : true))
              .filter((d) => (query.task ? d.task === query.task : true))
              .filter((d) => (query.environment ? d.environment === query.environment : true))
              .reverse(); // newest first, as GitHub lists them
            const page = Number(query.page ?? 1);
            return send(res, 200, matching.slice((page - 1) * perPage, page * perPage).map(deploymentJson), op);
          }
          if (state.permission === 'read') return forbidden();
          const input = body as {
            ref: string;
            task?: string;
            payload?: unknown;
            environment?: string;
            description?: string | null;
            transient_environment?: boolean;
            production_environment?: boolean;
            required_contexts?: string[];
          };
          if (!/^[0-9a-f]{40}$/.test(input.ref) && !/^(refs\/)?[\w./-]+$/.test(input.ref))
            return send(res, 422, { message: `No ref found for: ${input.ref}` });
          if (input.required_contexts === undefined)
            // GitHub then verifies every status context of the ref; here there are none, like a new repository.
            state.violations.push(
              'POST deployments without required_contexts: GitHub would check every status context',
            );
          const environment = input.environment ?? 'production';
          const deployment: FakeDeployment = {
            id: nextId++,
            sha: /^[0-9a-f]{40}$/.test(input.ref) ? input.ref : 'f'.repeat(40),
            ref: input.ref,
            task: input.task ?? 'deploy',
            environment,
            description: input.description ?? '',
            payload: input.payload ?? {},
            transient_environment: input.transient_environment ?? false,
            production_environment: input.production_environment ?? environment === 'production',
            created_at: now,
            statuses: [],
          };
          deployments.push(deployment);
          return send(res, 201, deploymentJson(deployment), op);
        }
        const deployment = deployments.find((d) => d.id === Number(params.deployment_id));
        if (!deployment)
          return send(res, 404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' });
        if (op.method === 'GET')
          return send(
            res,
            200,
            [...deployment.statuses].reverse().map((st) => statusJson(deployment, st)),
            op,
          );
        if (state.permission === 'read') return forbidden();
        const input = body as {
          state: string;
          description?: string;
          environment?: string;
          environment_url?: string;
          log_url?: string;
          target_url?: string;
          auto_inactive?: boolean;
        };
        if ((input.description ?? '').length > 140)
          return unprocessable('description is too long (maximum is 140 characters)');
        const status: FakeDeploymentStatus = {
          id: nextId++,
          state: input.state,
          description: input.description ?? '',
          environment: input.environment ?? deployment.statuses.at(-1)?.environment ?? deployment.environment,
          environment_url: input.environment_url ?? '',
          log_url: input.log_url ?? input.target_url ?? '',
          created_at: now,
        };
        deployment.statuses.push(status);
        if (input.state === 'success' && input.auto_inactive !== false) {
          // GitHub marks prior successful deployments of the environment inactive.
          for (const other of deployments) {
            if (other === deployment || other.environment !== deployment.environment) continue;
            if (other.transient_environment || other.statuses.at(-1)?.state !== 'success') continue;
            other.statuses.push({ ...status, id: nextId++, state: 'inactive', description: '' });
          }
        }
        return send(res, 201, statusJson(deployment, status), op);
      }
      // /issues/comments/{comment_id}
      const id = Number(params.comment_id);
      for (const [issue, list] of issues) {
        const comment = list.find((c) => c.id === id);
        if (!comment) continue;
        if (op.method === 'GET') return send(res, 200, commentJson(comment, issue), op);
        if (state.permission === 'read' || comment.login !== 'github-actions[bot]') return forbidden();
        if (op.method === 'PATCH') {
          comment.body = (body as { body: string }).body;
          comment.updated_at = now;
          return send(res, 200, commentJson(comment, issue), op);
        }
      }
      return send(res, 404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: baseUrl,
    token,
    get requests() {
      return state.requests;
    },
    get violations() {
      return state.violations;
    },
    get permission() {
      return state.permission;
    },
    set permission(value) {
      state.permission = value;
    },
    comments: (issue) => issues.get(issue) ?? [],
    deployments: () => deployments,
    releases: () => releases,
    fail(...faults) {
      state.faults.push(...faults);
    },
    seed(issue, count, body = (i) => `Looks good to me (${i})`, login = 'octocat') {
      const list = issues.get(issue) ?? [];
      for (let i = 0; i < count; i++) {
        const at = new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString().replace(/\.\d+Z$/, 'Z');
        list.push({ id: nextId++, body: body(i), login, created_at: at, updated_at: at });
      }
      issues.set(issue, list);
    },
    reset() {
      issues.clear();
      deployments = [];
      releases = [];
      state.requests = [];
      state.violations = [];
      state.permission = 'write';
      state.faults = [];
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
