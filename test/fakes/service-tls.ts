// An HTTPS variant of the fake service with a self-signed certificate for 127.0.0.1, to test
// `insecure-tls` (its key and certificate also serve other TLS tests). The key is a throwaway made for these tests only (openssl req -x509, 100 years).
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';

export const TLS_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQguwaOXvwIH1YZWbbu
yPNdUXaLDtmt4NO91mbDBxHzBlihRANCAATmQ8SqPrskSvgM2psfpMMqNZKOBuvY
xj+65LuNjoB7credjuetuqS8cyDJQ+U48T3E9IK1wGtJ3g9C2WqC5r+a
-----END PRIVATE KEY-----`;

export const TLS_CERT = `-----BEGIN CERTIFICATE-----
MIIBkTCCATagAwIBAgIUfQHLoBnd2s7S1kyIS51vUGRceA4wCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJYWRjaS10ZXN0MCAXDTI2MTEyNzAwMzEwN1oYDzIxMjYxMTAz
MDAzMTA3WjAUMRIwEAYDVQQDDAlhZGNpLXRlc3QwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAATmQ8SqPrskSvgM2psfpMMqNZKOBuvYxj+65LuNjoB7credjuetuqS8
cyDJQ+U48T3E9IK1wGtJ3g9C2WqC5r+ao2QwYjAdBgNVHQ4EFgQU7BvNCYkpplB7
3o1CM0G3ou86UB4wHwYDVR0jBBgwFoAU7BvNCYkpplB73o1CM0G3ou86UB4wDwYD
VR0TAQH/BAUwAwEB/zAPBgNVHREECDAGhwR/AAABMAoGCCqGSM49BAMCA0kAMEYC
IQCeCnOOX8LCnudb1oe7lLwfdjkqmyiH/gZOVHUNBkhs7QIhAKAgam9kf3fNLMsl
vsj4C8cOFTlLmAw0f+zLwR7Tgsfd
-----END CERTIFICATE-----`;

export interface TlsService {
  url: string;
  close(): Promise<void>;
}

export async function startTlsService(): Promise<TlsService> {
  const server: Server = createServer({ key: TLS_KEY, cert: TLS_CERT }, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"secure":true}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
