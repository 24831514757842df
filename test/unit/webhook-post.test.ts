import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { postWebhook, WEBHOOK_ATTEMPTS } from '../../src/alerts/webhook.js';
import { rejection } from '../support/files.js';

/** A receiver on loopback that answers each request as `answer` says, keeping what it was sent. */
async function receiver(answer: (n: number, req: IncomingMessage, res: ServerResponse) => void) {
  const seen: { method: string; url: string; body: string }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, body });
      answer(seen.length, req, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { base, seen, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const alert = { text: 'FAIL: US 90 %' };

describe('posting the alert', () => {
  it('does not follow a redirect: a POST turned into a GET would lose the alert, yet read as sent', async () => {
    for (const status of [301, 302, 303, 307, 308]) {
      const hook = await receiver((n, _req, res) => {
        if (n === 1) res.writeHead(status, { location: '/elsewhere?token=SECRET' }).end();
        else res.end('ok');
      });
      try {
        const e = await rejection(postWebhook(`${hook.base}/hooks/T0/TOKEN`, alert));
        // Before 0.3.7 the 302 was followed as a GET without the alert, and the run logged "alert sent".
        expect((e as Error).message).toBe(
          `webhook answered ${status}, a redirect, which is not followed: set the variable to the URL it leads to`,
        );
        expect((e as Error).message).not.toContain('SECRET');
        expect(hook.seen.map((s) => s.url)).toEqual(['/hooks/T0/TOKEN']);
      } finally {
        await hook.close();
      }
    }
  });

  it('tries a busy or failing receiver again, waiting as Retry-After asks, and gives up after its attempts', async () => {
    const waits: number[] = [];
    const pause = (ms: number) => Promise.resolve(waits.push(ms));
    const busy = await receiver((n, _req, res) =>
      n === 1 ? res.writeHead(429, { 'retry-after': '7' }).end() : n === 2 ? res.writeHead(503).end() : res.end('ok'),
    );
    try {
      await postWebhook(`${busy.base}/hook`, alert, undefined, pause);
      expect(busy.seen.map((s) => JSON.parse(s.body) as unknown)).toEqual([alert, alert, alert]);
      expect(waits).toEqual([7000, 2000]);
    } finally {
      await busy.close();
    }
    waits.length = 0;
    const down = await receiver((_n, _req, res) => res.writeHead(503).end());
    try {
      const e = await rejection(postWebhook(`${down.base}/hook`, alert, undefined, pause));
      expect((e as Error).message).toBe(`webhook answered 503 (${WEBHOOK_ATTEMPTS} attempts)`);
      expect(down.seen).toHaveLength(WEBHOOK_ATTEMPTS);
      expect(waits).toEqual([1000, 2000]);
    } finally {
      await down.close();
    }
    // A refusal is not tried again: the receiver read the alert and said no. Nor a 500, 502 or 504: a gateway's
    // timeout may come after the receiver posted it, and a second try would post it twice.
    for (const status of [403, 500, 502, 504]) {
      const refused = await receiver((_n, _req, res) => res.writeHead(status).end());
      try {
        const e = (await rejection(postWebhook(`${refused.base}/hook`, alert, undefined, pause))) as Error;
        expect(e.message).toBe(`webhook answered ${status}`);
        expect(refused.seen).toHaveLength(1);
      } finally {
        await refused.close();
      }
    }
  });

  it('stops waiting to try again as soon as the run is stopped (SIGTERM, Ctrl-C)', async () => {
    const busy = await receiver((_n, _req, res) => res.writeHead(429, { 'retry-after': '30' }).end());
    const stop = new AbortController();
    try {
      const started = Date.now();
      // The default pause: before 0.3.7's fix it took the signal for the value to return, and waited the 30 s out.
      const posting = postWebhook(`${busy.base}/hook`, alert, stop.signal);
      setTimeout(() => stop.abort(), 200);
      expect(((await rejection(posting)) as Error).name).toBe('AbortError');
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(busy.seen).toHaveLength(1);
    } finally {
      await busy.close();
    }
  });

  it('tries a refused connection again (nothing was delivered), and says how many times it tried', async () => {
    const gone = await receiver(() => {});
    const url = `${gone.base}/hook`;
    await gone.close();
    const waits: number[] = [];
    const e = (await rejection(
      postWebhook(url, alert, undefined, (ms) => Promise.resolve(waits.push(ms))),
    )) as Error & {
      attempts?: number;
    };
    expect((e.cause as { code?: string }).code).toBe('ECONNREFUSED');
    expect(e.attempts).toBe(WEBHOOK_ATTEMPTS);
    expect(waits).toEqual([1000, 2000]);
  });
});
