import { describe, it, expect } from 'vitest';
import { ProtocolError } from './errors.js';

describe('ProtocolError', () => {
  it('is an Error with a code, a name and the message', () => {
    const e = new ProtocolError('bad_base32', 'base32 length is impossible');
    expect(e).toBeInstanceOf(Error);
    expect(e.code).toBe('bad_base32');
    expect(e.name).toBe('ProtocolError');
    expect(e.message).toBe('base32 length is impossible');
  });
});
