/**
 * The remote runner's HTTP client: one request to the server, over connections kept
 * alive between calls (one pool per process, shared by every run a worker executes).
 * `node:http` rather than `fetch`: a `topas worker` spent ~15% of its main thread in
 * undici's `fetch` (its Request, streams and AbortSignal per call) for the two calls a
 * trivial run makes (2026-12-02).
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/** A server's answer: its status and its body as text. */
export interface RunnerResponse {
  status: number;
  text: string;
}

const agents = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };

/**
 * Sends one request; resolves with the answer whatever its status, rejects on a network
 * error or when the whole answer has not come within `timeoutMs` (the request is then
 * abandoned, its connection closed).
 */
export function runnerRequest(url: string, init: { method: 'GET' | 'POST'; headers: Record<string, string>; body?: string; timeoutMs: number }): Promise<RunnerResponse> {
  const target = new URL(url);
  const https = target.protocol === 'https:';
  if (!https && target.protocol !== 'http:') return Promise.reject(new Error(`the server's URL must be http or https, got ${target.protocol}`));
  const headers: Record<string, string | number> = { ...init.headers };
  if (init.body !== undefined) headers['content-length'] = Buffer.byteLength(init.body);
  return new Promise((resolve, reject) => {
    const req = (https ? httpsRequest : httpRequest)(
      url,
      { method: init.method, headers, agent: https ? agents.https : agents.http },
      (res: IncomingMessage) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, text });
        });
        res.on('error', fail);
      },
    );
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${init.timeoutMs} ms`)), init.timeoutMs);
    function fail(error: Error) {
      clearTimeout(timer);
      reject(error);
    }
    req.on('error', fail);
    req.end(init.body);
  });
}
