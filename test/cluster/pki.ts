// The cluster's PKI: a CA, the API server's serving certificate, one client certificate per
// identity, and the service-account signing key pair. openssl is driven with argument arrays.
import { mkdir, readFile, rm, writeFile, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { nodeName } from './config.ts';
import { run } from './run.ts';

export interface ClientIdentity {
  name: string;
  commonName: string;
  organization?: string;
}

export const identities = {
  admin: { name: 'admin', commonName: 'adci-admin', organization: 'system:masters' },
  controllerManager: { name: 'controller-manager', commonName: 'system:kube-controller-manager' },
  scheduler: { name: 'scheduler', commonName: 'system:kube-scheduler' },
  kubelet: { name: 'kubelet', commonName: 'system:node:adci-node', organization: 'system:nodes' },
  proxy: { name: 'proxy', commonName: 'system:kube-proxy' },
  apiserverKubeletClient: {
    name: 'apiserver-kubelet-client',
    commonName: 'kube-apiserver-kubelet-client',
    organization: 'system:masters',
  },
} satisfies Record<string, ClientIdentity>;

async function newKey(path: string): Promise<void> {
  await run('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', path]);
  await chmod(path, 0o600);
}

async function signCertificate(dir: string, name: string, subject: string, extensions: string): Promise<void> {
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const ext = join(dir, `${name}.ext`);
  await newKey(key);
  await run('openssl', ['req', '-new', '-key', key, '-subj', subject, '-out', csr]);
  await writeFile(ext, extensions);
  await run('openssl', [
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    join(dir, 'ca.crt'),
    '-CAkey',
    join(dir, 'ca.key'),
    '-set_serial',
    `0x${Date.now().toString(16)}${Math.floor(Math.random() * 0xffff).toString(16)}`,
    '-days',
    '365',
    '-sha256',
    '-extfile',
    ext,
    '-out',
    join(dir, `${name}.crt`),
  ]);
  await rm(csr);
  await rm(ext);
}

/** The addresses a cluster's serving certificates name. */
export interface PkiAddresses {
  host: string;
  kubernetesServiceIp: string;
  podGateway: string;
}

export async function generatePki(dir: string, { host, kubernetesServiceIp, podGateway }: PkiAddresses): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await newKey(join(dir, 'ca.key'));
  await run('openssl', [
    'req',
    '-x509',
    '-new',
    '-key',
    join(dir, 'ca.key'),
    '-subj',
    '/CN=adci-test-cluster-ca',
    '-days',
    '3650',
    '-sha256',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
    '-out',
    join(dir, 'ca.crt'),
  ]);
  const serverSans = [
    `IP:${host}`,
    `IP:${kubernetesServiceIp}`,
    `IP:${podGateway}`,
    'DNS:localhost',
    'DNS:kubernetes',
    'DNS:kubernetes.default',
    'DNS:kubernetes.default.svc',
    'DNS:kubernetes.default.svc.cluster.local',
  ].join(',');
  await signCertificate(
    dir,
    'apiserver',
    '/CN=kube-apiserver',
    'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n' +
      `extendedKeyUsage=serverAuth\nsubjectAltName=${serverSans}\n`,
  );
  await signCertificate(
    dir,
    'kubelet-serving',
    `/O=system:nodes/CN=system:node:${nodeName}`,
    'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n' +
      `extendedKeyUsage=serverAuth\nsubjectAltName=IP:${host},DNS:${nodeName},DNS:localhost\n`,
  );
  for (const id of Object.values(identities) as ClientIdentity[]) {
    const subject = id.organization ? `/O=${id.organization}/CN=${id.commonName}` : `/CN=${id.commonName}`;
    await signCertificate(
      dir,
      id.name,
      subject,
      'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n',
    );
  }
  await run('openssl', [
    'genpkey',
    '-algorithm',
    'RSA',
    '-pkeyopt',
    'rsa_keygen_bits:2048',
    '-out',
    join(dir, 'sa.key'),
  ]);
  await chmod(join(dir, 'sa.key'), 0o600);
  await run('openssl', ['pkey', '-in', join(dir, 'sa.key'), '-pubout', '-out', join(dir, 'sa.pub')]);
}

function b64(data: Buffer | string): string {
  return Buffer.from(data).toString('base64');
}

/** A kubeconfig as JSON (valid YAML), certificates embedded, written owner-only. */
export async function writeKubeconfig(
  path: string,
  options: {
    server: string;
    caFile: string;
    user: string;
    certFile?: string;
    keyFile?: string;
    token?: string;
    namespace?: string;
  },
): Promise<void> {
  const ca = await readFile(options.caFile);
  const user: Record<string, string> = {};
  if (options.certFile && options.keyFile) {
    user['client-certificate-data'] = b64(await readFile(options.certFile));
    user['client-key-data'] = b64(await readFile(options.keyFile));
  }
  if (options.token) user.token = options.token;
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'adci', cluster: { server: options.server, 'certificate-authority-data': b64(ca) } }],
    users: [{ name: options.user, user }],
    contexts: [
      {
        name: `${options.user}@adci`,
        context: {
          cluster: 'adci',
          user: options.user,
          ...(options.namespace ? { namespace: options.namespace } : {}),
        },
      },
    ],
    'current-context': `${options.user}@adci`,
    preferences: {},
  };
  await writeFile(path, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  await chmod(path, 0o600);
}
