import { describe, expect, it } from 'vitest';
import { gecosUsername, splitAt } from './gecos.js';

const off = { sendGecos: false, gecosDelim: ',', gecosUsernamePos: null };

describe('gecosUsername', () => {
  it('off: the login name', () => {
    expect(gecosUsername('alice', 'Alice A,Room 1,duo-alias', off)).toEqual({ username: 'alice', note: null });
  });

  it('send_gecos: the whole field', () => {
    expect(gecosUsername('alice', 'Alice A,Room 1', { ...off, sendGecos: true })).toEqual({ username: 'Alice A,Room 1', note: null });
  });

  it('gecos_username_pos: the N-th field (1-based), implies GECOS mode', () => {
    expect(gecosUsername('alice', 'Probe User,Room 1,duo-alias', { ...off, gecosUsernamePos: 3 })).toEqual({ username: 'duo-alias', note: null });
    expect(gecosUsername('alice', 'a/b/c', { ...off, gecosDelim: '/', gecosUsernamePos: 2 })).toEqual({ username: 'b', note: null });
    expect(gecosUsername('alice', 'first', { ...off, sendGecos: true, gecosUsernamePos: 1 })).toEqual({ username: 'first', note: null });
  });

  it('missing or empty field: the login name, "Could not parse GECOS field"', () => {
    expect(gecosUsername('alice', 'a,b', { ...off, gecosUsernamePos: 3 })).toEqual({ username: 'alice', note: 'Could not parse GECOS field' });
    expect(gecosUsername('alice', 'a,,c', { ...off, gecosUsernamePos: 2 })).toEqual({ username: 'alice', note: 'Could not parse GECOS field' });
    expect(gecosUsername('alice', ',,,,,', { ...off, gecosUsernamePos: 6 })).toEqual({ username: 'alice', note: 'Could not parse GECOS field' });
    // a field delimited by another character is not split
    expect(gecosUsername('alice', 'a/b/c', { ...off, gecosUsernamePos: 2 })).toEqual({ username: 'alice', note: 'Could not parse GECOS field' });
  });

  it('empty GECOS: the login name, "Empty GECOS field"', () => {
    expect(gecosUsername('alice', '', { ...off, sendGecos: true })).toEqual({ username: 'alice', note: 'Empty GECOS field' });
    expect(gecosUsername('alice', '', { ...off, gecosUsernamePos: 1 })).toEqual({ username: 'alice', note: 'Empty GECOS field' });
  });

  it('splitAt is duo_split_at (0-based)', () => {
    expect(splitAt('a,b,c', ',', 0)).toBe('a');
    expect(splitAt('a,b,c', ',', 2)).toBe('c');
    expect(splitAt('a,b,c', ',', 3)).toBeNull();
  });
});
