import { describe, expect, it } from 'vitest';
import { UnauthenticatedError, UserError } from '../../../src/errors.js';
import { LiveHub, type EvaluationBatch, type LiveQuerySpec } from '../../../src/live/hub.js';

/** Input = the query name; the result is `${name}@${generation}` read from a mutable "warehouse". */
interface Input {
  readonly tenant: string;
  readonly name: string;
}

function setup(options: { maxPerTenant?: number; now?: () => number; slow?: { name: string; until: Promise<void> } } = {}) {
  const data = new Map<string, number>(); // tenant:name -> value
  const batches: EvaluationBatch<Input>[] = [];
  let gate: Promise<void> | undefined;
  let failNext: Error | undefined;
  const hub = new LiveHub<Input, string>({
    maxPerTenant: options.maxPerTenant ?? 1000,
    now: options.now,
    version: (r) => r,
    evaluate(batch) {
      batches.push(batch);
      // failNext fails this whole batch; values are read once the gate opens.
      const fail = failNext;
      failNext = undefined;
      const waitFor = gate;
      return batch.inputs.map(async (i) => {
        if (await waitFor) await waitFor;
        if (options.slow?.name === i.name) await options.slow.until;
        if (fail) throw fail;
        return `${i.tenant}/${i.name}=${data.get(`${i.tenant}:${i.name}`) ?? 0}`;
      });
    },
  });
  const spec = (tenant: string, name: string, cubes: string[] = ['ads'], scopes = 'metrics:read'): LiveQuerySpec<Input> => ({
    key: `${tenant}|${scopes}|${name}`,
    groupKey: `${tenant}|${scopes}`,
    tenantId: tenant,
    cubes,
    input: { tenant, name },
  });
  return {
    hub,
    data,
    batches,
    spec,
    evaluations: () => batches.reduce((n, b) => n + b.inputs.length, 0),
    block() {
      let open!: () => void;
      gate = new Promise((r) => (open = r));
      return () => {
        gate = undefined;
        open();
      };
    },
    failNext(e: Error) {
      failNext = e;
    },
  };
}

const tick = () => new Promise((r) => setImmediate(r));
async function settle() {
  for (let i = 0; i < 5; i++) await tick();
}

describe('LiveHub sharing and fan-out', () => {
  it('1,000 subscribers of one query cause one evaluation and all get the result', async () => {
    const t = setup();
    const its = Array.from({ length: 1000 }, () => t.hub.subscribe(t.spec('acme', 'q1')));
    const firsts = await Promise.all(its.map((it) => it.next()));
    expect(t.evaluations()).toBe(1);
    expect(new Set(firsts.map((f) => f.value))).toEqual(new Set(['acme/q1=0']));
    expect(t.hub.stats()).toMatchObject({ subscriptions: 1000, sharedQueries: 1, evaluations: 1, pushes: 1000 });
  });

  it('distinct queries of one tenant and scope set are evaluated in one batch (one request context)', async () => {
    const t = setup();
    const a = t.hub.subscribe(t.spec('acme', 'q1'));
    const b = t.hub.subscribe(t.spec('acme', 'q2'));
    const c = t.hub.subscribe(t.spec('acme', 'q3', ['ads'], 'finance:read metrics:read'));
    await Promise.all([a.next(), b.next(), c.next()]);
    expect(t.batches.map((x) => x.inputs.map((i) => i.name))).toEqual([['q1', 'q2'], ['q3']]);
    expect(t.batches.every((x) => x.refresh === false)).toBe(true);
  });

  it("a change re-evaluates only that tenant's queries on those cubes, once each, and pushes only changed results", async () => {
    const t = setup();
    const acmeAds = [t.hub.subscribe(t.spec('acme', 'q1')), t.hub.subscribe(t.spec('acme', 'q1'))];
    const acmeMail = t.hub.subscribe(t.spec('acme', 'mail', ['email']));
    const globex = t.hub.subscribe(t.spec('globex', 'q1'));
    await Promise.all([...acmeAds, acmeMail, globex].map((i) => i.next()));
    const before = t.evaluations();

    t.data.set('acme:q1', 7);
    expect(t.hub.changed('acme', ['ads'])).toBe(1);
    const next = await Promise.all(acmeAds.map((i) => i.next()));
    expect(next.map((n) => n.value)).toEqual(['acme/q1=7', 'acme/q1=7']);
    expect(t.evaluations() - before).toBe(1);
    expect(t.batches.at(-1)).toMatchObject({ tenantId: 'acme', refresh: true, cubes: ['ads'] });

    // globex and the email query saw nothing: their next() stays pending
    let globexGot = false;
    void globex.next().then(() => (globexGot = true));
    let mailGot = false;
    void acmeMail.next().then(() => (mailGot = true));
    await settle();
    expect(globexGot).toBe(false);
    expect(mailGot).toBe(false);

    // a change that leaves the result equal pushes nothing
    t.hub.changed('acme', ['ads']);
    await settle();
    expect(t.evaluations() - before).toBe(2);
    let again = false;
    void acmeAds[0].next().then(() => (again = true));
    await settle();
    expect(again).toBe(false);
  });

  it('each query of a batch is pushed when its own result is in, not when the slowest one is', async () => {
    let finishSlow!: () => void;
    const t = setup({ slow: { name: 'slow', until: new Promise<void>((r) => (finishSlow = r)) } });
    const fast = t.hub.subscribe(t.spec('acme', 'fast'));
    const slow = t.hub.subscribe(t.spec('acme', 'slow'));
    let slowGot = false;
    void slow.next().then(() => (slowGot = true));
    expect((await fast.next()).value).toBe('acme/fast=0');
    expect(t.batches).toHaveLength(1); // one batch, one request context
    expect(slowGot).toBe(false);
    finishSlow();
    await settle();
    expect(slowGot).toBe(true);
    expect(t.hub.stats().evaluations).toBe(2);
  });

  it('empty cube list means every query of the tenant', async () => {
    const t = setup();
    const a = t.hub.subscribe(t.spec('acme', 'q1', ['ads']));
    const b = t.hub.subscribe(t.spec('acme', 'q2', ['email']));
    await Promise.all([a.next(), b.next()]);
    expect(t.hub.changed('acme', [])).toBe(2);
  });

  it('changedAll (a resync) re-evaluates every query of every tenant once and pushes what moved', async () => {
    const t = setup();
    const a = t.hub.subscribe(t.spec('acme', 'q1', ['ads']));
    const b = t.hub.subscribe(t.spec('globex', 'q2', ['email']));
    await Promise.all([a.next(), b.next()]);
    const before = t.evaluations();
    t.data.set('globex:q2', 7);
    expect(t.hub.tenants().sort()).toEqual(['acme', 'globex']);
    expect(t.hub.changedAll()).toBe(2);
    expect((await b.next()).value).toBe('globex/q2=7');
    await settle();
    expect(t.evaluations() - before).toBe(2);
  });

  it('a late subscriber gets the current result at once without a new evaluation', async () => {
    const t = setup();
    const a = t.hub.subscribe(t.spec('acme', 'q1'));
    await a.next();
    const b = t.hub.subscribe(t.spec('acme', 'q1'));
    expect((await b.next()).value).toBe('acme/q1=0');
    expect(t.evaluations()).toBe(1);
  });

  it('changes during an evaluation coalesce into exactly one more evaluation', async () => {
    const t = setup();
    const a = t.hub.subscribe(t.spec('acme', 'q1'));
    await a.next();
    const open = t.block();
    t.data.set('acme:q1', 1);
    t.hub.changed('acme', ['ads']);
    await settle(); // evaluation #2 is running and blocked
    for (let i = 2; i <= 10; i++) {
      t.data.set('acme:q1', i);
      t.hub.changed('acme', ['ads']);
    }
    open();
    await settle();
    expect(t.evaluations()).toBe(3);
    // slow consumer: only the newest value is delivered
    expect((await a.next()).value).toBe('acme/q1=10');
  });

  it('a slow consumer holds one unsent value, the newest', async () => {
    const t = setup();
    const a = t.hub.subscribe(t.spec('acme', 'q1'));
    const fast = t.hub.subscribe(t.spec('acme', 'q1'));
    await Promise.all([a.next(), fast.next()]);
    const seen: string[] = [];
    for (let i = 1; i <= 5; i++) {
      t.data.set('acme:q1', i);
      t.hub.changed('acme', ['ads']);
      seen.push((await fast.next()).value as string);
    }
    expect(seen).toEqual(['acme/q1=1', 'acme/q1=2', 'acme/q1=3', 'acme/q1=4', 'acme/q1=5']);
    expect((await a.next()).value).toBe('acme/q1=5');
    // nothing else is queued for the slow one
    let more = false;
    void a.next().then(() => (more = true));
    await settle();
    expect(more).toBe(false);
  });

  it('return() detaches; the shared query goes away with its last subscriber', async () => {
    const t = setup();
    const a = t.hub.subscribe(t.spec('acme', 'q1'));
    const b = t.hub.subscribe(t.spec('acme', 'q1'));
    await Promise.all([a.next(), b.next()]);
    await a.return!();
    expect(t.hub.stats()).toMatchObject({ subscriptions: 1, sharedQueries: 1, byTenant: { acme: 1 } });
    await b.return!();
    expect(t.hub.stats()).toMatchObject({ subscriptions: 0, sharedQueries: 0, byTenant: {} });
    expect(t.hub.changed('acme', ['ads'])).toBe(0);
    expect(await a.next()).toEqual({ value: undefined, done: true });
  });

  it('caps subscriptions per tenant with RATE_LIMITED', () => {
    const t = setup({ maxPerTenant: 2 });
    t.hub.subscribe(t.spec('acme', 'q1'));
    t.hub.subscribe(t.spec('acme', 'q2'));
    let err: unknown;
    try {
      t.hub.subscribe(t.spec('acme', 'q3'));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserError);
    expect(err).toMatchObject({ code: 'RATE_LIMITED', message: 'too many live subscriptions for this tenant (limit 2)' });
    expect(() => t.hub.subscribe(t.spec('globex', 'q1'))).not.toThrow();
  });

  it('a failing first evaluation reaches the subscribers; a later failure keeps the last result', async () => {
    const t = setup();
    t.failNext(new UserError('BAD_USER_INPUT', 'nope'));
    const a = t.hub.subscribe(t.spec('acme', 'q1'));
    await expect(a.next()).rejects.toMatchObject({ code: 'BAD_USER_INPUT', message: 'nope' });
    expect(t.hub.stats().sharedQueries).toBe(0);

    const b = t.hub.subscribe(t.spec('acme', 'q1'));
    expect((await b.next()).value).toBe('acme/q1=0');
    t.failNext(new Error('engine down'));
    t.hub.changed('acme', ['ads']);
    await settle();
    t.data.set('acme:q1', 3);
    t.hub.changed('acme', ['ads']);
    expect((await b.next()).value).toBe('acme/q1=3');
  });

  it('re-evaluations that keep failing end the subscription with the error, not a silently stale result', async () => {
    const t = setup();
    const a = t.hub.subscribe(t.spec('acme', 'q1'));
    expect((await a.next()).value).toBe('acme/q1=0');
    for (let i = 0; i < 3; i++) {
      t.failNext(new Error(`engine down ${i}`));
      t.hub.changed('acme', ['ads']);
      await settle();
    }
    await expect(a.next()).rejects.toThrow('engine down 2');
  });

  it('ends a subscription with UNAUTHENTICATED when its token expires', async () => {
    let now = 1_000_000;
    const t = setup({ now: () => now });
    expect(() => t.hub.subscribe(t.spec('acme', 'q1'), { expiresAt: now / 1000 - 1 })).toThrow(UnauthenticatedError);
    const a = t.hub.subscribe(t.spec('acme', 'q1'), { expiresAt: now / 1000 + 0.01 }); // fires after the 1 s grace
    await a.next();
    now += 10_000;
    const err = await a.next().catch((e) => e);
    expect(err).toBeInstanceOf(UnauthenticatedError);
    expect(err.message).toBe('token expired');
    expect(t.hub.stats().subscriptions).toBe(0);
  });

  it('close() ends every subscription', async () => {
    const t = setup();
    const a = t.hub.subscribe(t.spec('acme', 'q1'));
    await a.next();
    const pending = a.next();
    t.hub.close();
    expect(await pending).toEqual({ value: undefined, done: true });
    expect(() => t.hub.subscribe(t.spec('acme', 'q1'))).toThrow(/shutting down/);
  });
});
