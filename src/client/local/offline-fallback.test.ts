import { describe, expect, it } from 'vitest';
import { fallbackFileProblem, isLocalOption } from './offline-fallback.js';

const ROOT_DIR = { uid: 0, mode: 0o40755 };

describe('offline fallback: which files may let a user in', () => {
  it('a root-owned file, writable by root alone, in a root-owned directory: used', () => {
    expect(fallbackFileProblem('/var/lib/tandem/alice', { uid: 0, mode: 0o100600 }, ROOT_DIR)).toBeNull();
    expect(fallbackFileProblem('/var/lib/tandem/alice', { uid: 0, mode: 0o100400 }, ROOT_DIR)).toBeNull();
  });
  it('a user-owned file: refused', () => {
    expect(fallbackFileProblem('/home/alice/.google_authenticator', { uid: 1000, mode: 0o100400 }, ROOT_DIR)).toMatch(/must be owned by root, not uid 1000/);
  });
  it('group- or other-writable: refused', () => {
    expect(fallbackFileProblem('/x/a', { uid: 0, mode: 0o100620 }, ROOT_DIR)).toMatch(/group- or other-writable \(mode 0620/);
    expect(fallbackFileProblem('/x/a', { uid: 0, mode: 0o100602 }, ROOT_DIR)).toMatch(/group- or other-writable/);
  });
  it('a directory the user owns or may write: refused', () => {
    expect(fallbackFileProblem('/home/alice/ga', { uid: 0, mode: 0o100600 }, { uid: 1000, mode: 0o40700 })).toMatch(/directory "\/home\/alice" must be owned by root/);
    expect(fallbackFileProblem('/tmp/ga', { uid: 0, mode: 0o100600 }, { uid: 0, mode: 0o41777 })).toMatch(/directory "\/tmp" must not be group- or other-writable/);
  });
  it('google-authenticator options are told apart from pam_tandem options', () => {
    for (const a of ['secret=/x', 'user=root', 'allowed_perm=0400', 'nullok', 'try_first_pass', 'no_strict_owner']) expect(isLocalOption(a)).toBe(true);
    for (const a of ['conf=/x', 'debug', 'timeout=5', 'helper=/x', 'mode=local', 'frobnicate']) expect(isLocalOption(a)).toBe(false);
  });
});
