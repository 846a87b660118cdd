/** Webhooks never reach this host, private networks or link-local addresses unless the operator allows it. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { deliverWebhook, isInternalAddress } from '../../../src/reports/destinations/webhook.js';

describe('webhook address guard', () => {
  it.each([
    ['127.0.0.1', true],
    ['10.1.2.3', true],
    ['172.20.0.1', true],
    ['192.168.1.10', true],
    ['169.254.169.254', true],
    ['100.64.0.1', true],
    ['0.0.0.0', true],
    ['::1', true],
    ['fd00::1', true],
    ['fe80::1', true],
    ['::ffff:127.0.0.1', true],
    ['93.184.216.34', false],
    ['2606:4700::1111', false],
    ['not-an-ip', true],
  ])('%s internal: %s', (address, internal) => {
    expect(isInternalAddress(address)).toBe(internal);
  });

  it('refuses a loopback receiver by default, and delivers to it when allowed', async () => {
    let calls = 0;
    const server = createServer((req, res) => {
      calls++;
      req.resume();
      res.end('ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    const delivery = { url, secret: 's', deliveryId: 'd1', payload: { ok: true } };
    try {
      await expect(deliverWebhook(delivery, { attempts: 1, retryBaseMs: 1, timeoutMs: 2_000 })).rejects.toThrow(/internal address \(127\.0\.0\.1\); refused/);
      const localhost = { ...delivery, url: url.replace('127.0.0.1', 'localhost') };
      await expect(deliverWebhook(localhost, { attempts: 1, retryBaseMs: 1, timeoutMs: 2_000 })).rejects.toThrow(/internal address/);
      expect(calls).toBe(0);
      expect(await deliverWebhook(delivery, { attempts: 1, retryBaseMs: 1, timeoutMs: 2_000, allowPrivate: true })).toEqual({ status: 200, attempts: 1 });
      expect(calls).toBe(1);
    } finally {
      server.close();
    }
  });
});
