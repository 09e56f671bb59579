// Console sign-in does the same work whatever is wrong: the same store calls in the same order
// (so the same queries) and one scrypt for an unknown name, a wrong password, a wrong code, a
// disabled or a locked admin; the audit entry alone has the reason.
import { afterEach, beforeEach, expect, it } from 'vitest';
import { checkAdminCredentials, disableAdmin } from '../../src/core/admins.js';
import type { Deps } from '../../src/core/deps.js';
import type { Store } from '../../src/store/contract.js';
import { startConsoleHarness, type ConsoleHarness } from './console-support.js';

let c: ConsoleHarness;
beforeEach(async () => {
  c = await startConsoleHarness({ lockoutThreshold: 2 });
});
afterEach(async () => c.close());

/** Deps whose store records the name of every call. */
function traced(deps: Deps): { deps: Deps; calls: string[] } {
  const calls: string[] = [];
  const store = new Proxy(deps.store, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        calls.push(String(prop));
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  }) as Store;
  return { deps: { ...deps, store }, calls };
}

it('unknown name, wrong password, wrong code, disabled, locked: identical store calls', async () => {
  const a = await c.admin('olga');
  const d = await c.admin('pete');
  await disableAdmin(c.h.deps, 'pete');
  const l = await c.admin('quin');
  for (let i = 0; i < 2; i++) await c.signIn(l, { code: '000000' });

  const attempt = async (name: string, password: string, code: string) => {
    const t = traced(c.h.deps);
    const r = await checkAdminCredentials(t.deps, { name, password, code, peer: '192.0.2.1', purpose: 'sign_in' });
    expect(r).toBeNull();
    return t.calls;
  };
  const traces = [
    await attempt('nobody-here', a.password, c.code(a)),
    await attempt('olga', 'not the right password', c.code(a)),
    await attempt('olga', a.password, '000000'),
    await attempt('pete', d.password, c.code(d)),
    await attempt('quin', l.password, c.code(l)),
  ];
  for (const t of traces) expect(t).toEqual(traces[0]);
  expect(traces[0]).toEqual(['findAdminByName', 'recordAdminFailure', 'appendAudit']);
});
