/**
 * A throwaway TLS certificate for 127.0.0.1, made with the `openssl` CLI. The API
 * server needs TLS because kubectl (client-go) never sends credentials to a plain
 * `http://` server; the kubeconfig carries this certificate as its CA, so clients
 * verify it properly.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

export interface TlsMaterial {
  cert: string;
  key: string;
}

export async function selfSignedCert(days = 7): Promise<TlsMaterial> {
  const dir = await mkdtemp(path.join(tmpdir(), 'topas-test-cert-'));
  try {
    const keyFile = path.join(dir, 'key.pem');
    const certFile = path.join(dir, 'cert.pem');
    await promisify(execFile)('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      String(days),
      '-subj',
      '/CN=topas-test-apiserver',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
    ]);
    return { cert: await readFile(certFile, 'utf8'), key: await readFile(keyFile, 'utf8') };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
