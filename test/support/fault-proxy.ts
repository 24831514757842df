import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A small HTTP proxy on 127.0.0.1 in front of fake-gcs-server that injects faults into media
 * downloads (`?alt=media` or `/download/...`), or into any request, for testing retries over real
 * sockets. What it is not told to break is passed through untouched.
 */
export interface FaultProxy {
  /** `http://127.0.0.1:PORT`: use as the client's `apiEndpoint`. */
  endpoint: string;
  /**
   * The next `n` media downloads (or, with scope `any`, the next `n` requests of any kind) get
   * `status` (503 by default) with a JSON API error body; Infinity: all of them.
   */
  failNext(n: number, status?: number, scope?: 'media' | 'any'): void;
  /**
   * The next `n` media downloads send their headers (with the full Content-Length) and the first
   * half of the body, then the socket is destroyed: a connection dropped mid-object.
   */
  cutNext(n: number): void;
  /**
   * The next `n` media downloads arrive whole, with their headers (the stored object's hashes too),
   * but with one byte of the body changed: bytes that are not the bytes stored.
   */
  corruptNext(n: number): void;
  /** Uploads after the next `pass` (object writes) get `status`, every one of them, until reset. */
  failUploadsAfter(pass: number, status: number): void;
  /** The next `n` uploads reach the bucket, which stores them, but their answers are lost (the socket is dropped). */
  loseUploadAnswers(n: number): void;
  /** Back to passing everything through. */
  reset(): void;
  /** Media downloads seen since the start or the last `reset()`, faulted or not. */
  readonly mediaRequests: number;
  close(): Promise<void>;
}

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  let failures = 0;
  let failStatus = 503;
  let failScope: 'media' | 'any' = 'media';
  let cuts = 0;
  let corruptions = 0;
  let mediaRequests = 0;
  let uploadsToPass = Infinity;
  let uploadStatus = 403;
  let answersToLose = 0;

  const server = http.createServer((req, res) => {
    const media = isMediaDownload(req);
    if (media) mediaRequests++;
    const upload = req.method === 'POST' && (req.url ?? '').startsWith('/upload/');
    const failUpload = upload && uploadsToPass-- <= 0;
    if (((media || failScope === 'any') && failures > 0) || failUpload) {
      if (!failUpload) failures--;
      const status = failUpload ? uploadStatus : failStatus;
      const body = JSON.stringify({ error: { code: status, message: 'injected by fault-proxy', errors: [] } });
      // The request's body is read, as a server does before it answers.
      req.resume();
      res.writeHead(status, {
        'content-type': 'application/json; charset=UTF-8',
        'content-length': Buffer.byteLength(body),
      });
      res.end(body);
      return;
    }
    const lose = upload && answersToLose > 0;
    if (lose) answersToLose--;
    const cut = media && cuts > 0;
    if (cut) cuts--;
    const corrupt = media && !cut && corruptions > 0;
    if (corrupt) corruptions--;
    forward(req, res, upstream, lose ? 'lose' : cut ? 'cut' : corrupt ? 'corrupt' : undefined);
  });
  // Sockets the proxy destroys on purpose must not take the proxy down.
  server.on('clientError', (_e, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    failNext(n, status = 503, scope = 'media') {
      failures = n;
      failStatus = status;
      failScope = scope;
    },
    cutNext(n) {
      cuts = n;
    },
    corruptNext(n) {
      corruptions = n;
    },
    failUploadsAfter(pass, status) {
      uploadsToPass = pass;
      uploadStatus = status;
    },
    loseUploadAnswers(n) {
      answersToLose = n;
    },
    reset() {
      uploadsToPass = Infinity;
      answersToLose = 0;
      failures = 0;
      failScope = 'media';
      cuts = 0;
      corruptions = 0;
      mediaRequests = 0;
    },
    get mediaRequests() {
      return mediaRequests;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
}

function isMediaDownload(req: IncomingMessage): boolean {
  if (req.method !== 'GET') return false;
  const url = new URL(req.url ?? '/', 'http://proxy');
  return url.searchParams.get('alt') === 'media' || url.pathname.startsWith('/download/');
}

function forward(req: IncomingMessage, res: ServerResponse, upstream: URL, fault?: 'cut' | 'corrupt' | 'lose'): void {
  const out = http.request(
    {
      host: upstream.hostname,
      port: upstream.port,
      method: req.method,
      path: req.url,
      headers: { ...req.headers, host: upstream.host },
    },
    (up) => {
      if (fault === 'lose') {
        // Stored upstream; the answer never comes back.
        up.resume();
        up.on('end', () => res.socket?.destroy());
        return;
      }
      if (!fault) {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
        return;
      }
      // Buffer the whole (small, test-sized) body so that exactly half of it can be sent, or one byte changed.
      const chunks: Buffer[] = [];
      up.on('data', (c: Buffer) => chunks.push(c));
      up.on('end', () => {
        const body = Buffer.concat(chunks);
        const headers = { ...up.headers, 'content-length': String(body.length) };
        delete headers['transfer-encoding'];
        res.writeHead(up.statusCode ?? 502, headers);
        if (fault === 'corrupt') {
          if (body.length > 0) body[body.length >> 1] = body[body.length >> 1]! ^ 0x01;
          res.end(body);
          return;
        }
        res.flushHeaders();
        res.write(body.subarray(0, Math.floor(body.length / 2)), () => res.socket?.destroy());
      });
    },
  );
  out.on('error', () => res.destroy());
  req.pipe(out);
}
