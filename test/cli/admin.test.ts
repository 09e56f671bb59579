// `tandem admin create|list|disable|reset`: setup links, never a password on the command line.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempData, type TempData } from './run-cli.js';

let t: TempData;
beforeEach(async () => {
  expect((t = tempData(), await t.run(['init'])).code).toBe(0);
});
afterEach(() => t.cleanup());

const LINK = /https:\/\/localhost:8444\/console\/setup\/([A-Za-z0-9_-]{43})/;

describe('tandem admin', () => {
  it('create prints a one-time setup link on the console port; list, disable, reset', async () => {
    const created = await t.run(['admin', 'create', 'root-admin']);
    expect(created.code).toBe(0);
    const first = LINK.exec(created.stdout)?.[1];
    expect(first).toBeDefined();
    expect(await t.json(['admin', 'list'])).toEqual([expect.objectContaining({ name: 'root-admin', status: 'pending' })]);
    expect((await t.run(['admin', 'create', 'root-admin'])).code).not.toBe(0);

    const reset = await t.json<{ link: string }>(['admin', 'reset', 'root-admin']);
    const second = LINK.exec(reset.link)?.[1];
    expect(second).toBeDefined();
    expect(second).not.toBe(first);

    expect((await t.run(['admin', 'disable', 'root-admin'])).stdout).toContain('Admin root-admin disabled.');
    expect(await t.json(['admin', 'list'])).toEqual([expect.objectContaining({ name: 'root-admin', status: 'disabled' })]);
    expect((await t.run(['admin', 'disable', 'nobody'])).code).not.toBe(0);
  });

  it('takes no password option', async () => {
    const r = await t.run(['admin', 'create', 'x', '--password', 'hunter2hunter2']);
    expect(r.code).not.toBe(0);
    expect(await t.json(['admin', 'list'])).toEqual([]);
  });

  it('the setup link follows consoleListen and the first host name', async () => {
    const r = await t.run(['admin', 'create', 'a'], { env: { TANDEM_CONSOLE_LISTEN: '127.0.0.1:9999' } });
    expect(r.stdout).toContain('https://localhost:9999/console/setup/');
  });
});
