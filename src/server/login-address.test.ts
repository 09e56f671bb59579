import { describe, expect, it } from 'vitest';
import { parseLoginAddress } from './login-address.js';

describe('parseLoginAddress', () => {
  it.each([
    ['203.0.113.7', '203.0.113.7'],
    ['2001:db8::7', '2001:db8::7'],
    ['[2001:db8::7]', '2001:db8::7'],
    ['198.51.100.20 51234 192.0.2.2 22', '198.51.100.20'],
    ['2001:db8::1 40000 2001:db8::2 22', '2001:db8::1'],
    ['client.example.org', null],
    ['', null],
    ['999.1.1.1', null],
  ])('%j → ip %j', (raw, ip) => {
    expect(parseLoginAddress(raw).ip).toBe(ip);
  });

  it('keeps what was reported, printable and bounded', () => {
    expect(parseLoginAddress('host\u001b[2J.example').reported).toBe('host[2J.example');
    expect(parseLoginAddress('a'.repeat(10_000)).reported).toHaveLength(255);
  });
});
