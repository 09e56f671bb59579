import { describe, it, expect } from 'vitest';
import { buildPrompt, parsePromptChoice } from './duo-prompt.js';

describe('parsePromptChoice', () => {
  it('reads duo_unix factor choices with a 1-based device index', () => {
    expect(parsePromptChoice('push1')).toEqual({ kind: 'factor', factor: 'push', device: 1 });
    expect(parsePromptChoice('phone2')).toEqual({ kind: 'factor', factor: 'phone', device: 2 });
    expect(parsePromptChoice('sms3')).toEqual({ kind: 'factor', factor: 'sms', device: 3 });
  });

  it('defaults the device to 1 for bare factor words (DUO_PASSCODE=push)', () => {
    expect(parsePromptChoice('push')).toEqual({ kind: 'factor', factor: 'push', device: 1 });
    expect(parsePromptChoice('phone')).toEqual({ kind: 'factor', factor: 'phone', device: 1 });
    expect(parsePromptChoice('sms')).toEqual({ kind: 'factor', factor: 'sms', device: 1 });
    expect(parsePromptChoice('auto')).toEqual({ kind: 'factor', factor: 'auto', device: 1 });
  });

  it("maps mockduo's voice and smsrefresh", () => {
    expect(parsePromptChoice('voice1')).toEqual({ kind: 'factor', factor: 'phone', device: 1 });
    expect(parsePromptChoice('voice2')).toEqual({ kind: 'factor', factor: 'phone', device: 2 });
    expect(parsePromptChoice('smsrefresh1')).toEqual({ kind: 'factor', factor: 'sms', device: 1 });
  });

  it('is case-insensitive and trims surrounding whitespace', () => {
    expect(parsePromptChoice(' PUSH1\r\n')).toEqual({ kind: 'factor', factor: 'push', device: 1 });
  });

  it('treats everything else as a passcode, trimmed', () => {
    expect(parsePromptChoice('123456')).toEqual({ kind: 'passcode', passcode: '123456' });
    expect(parsePromptChoice('  123456\r\n')).toEqual({ kind: 'passcode', passcode: '123456' });
    expect(parsePromptChoice('1')).toEqual({ kind: 'passcode', passcode: '1' }); // raw menu number: not mapped
    expect(parsePromptChoice('')).toEqual({ kind: 'passcode', passcode: '' });
    expect(parsePromptChoice('\n')).toEqual({ kind: 'passcode', passcode: '' });
  });

  it('does not read hostile or odd factor-like text as a factor', () => {
    for (const text of ['push0', 'push01', 'push1000', 'push99999999999999999999', 'push-1', 'push 1', 'push1x', 'pushy', 'passcode', 'push１', 'push\u00001']) {
      expect(parsePromptChoice(text).kind, text).toBe('passcode');
    }
    expect(parsePromptChoice('push999')).toEqual({ kind: 'factor', factor: 'push', device: 999 });
  });

  it('keeps interior characters of a passcode verbatim', () => {
    expect(parsePromptChoice(' 12 34 ')).toEqual({ kind: 'passcode', passcode: '12 34' });
  });
});

describe('buildPrompt', () => {
  it('lists the options, numbers them and maps them to factor values', () => {
    const prompt = buildPrompt({
      username: 'alice',
      options: [
        { factor: 'push', device: 1, label: 'Tandem Push to Pixel 8' },
        { factor: 'phone', device: 1, label: 'Phone call to XXX-XXX-1234' },
        { factor: 'sms', device: 2, label: 'SMS passcodes to XXX-XXX-5678' },
      ],
    });
    expect(prompt.text).toBe(
      'Tandem two-factor login for alice\n\n' +
        'Enter a passcode or select one of the following options:\n\n' +
        ' 1. Tandem Push to Pixel 8\n 2. Phone call to XXX-XXX-1234\n 3. SMS passcodes to XXX-XXX-5678\n\n' +
        'Passcode or option (1-3): ',
    );
    expect(prompt.factors).toEqual({ '1': 'push1', '2': 'phone1', '3': 'sms2', default: 'push1' });
  });

  it('asks only for a passcode when there are no options', () => {
    expect(buildPrompt({ username: 'bob', options: [] })).toEqual({ text: 'Tandem two-factor login for bob\n\nEnter a passcode: ', factors: {} });
  });

  it('defaults to the first push, else the first phone, else nothing', () => {
    expect(
      buildPrompt({
        username: 'u',
        options: [
          { factor: 'phone', device: 1, label: 'a' },
          { factor: 'push', device: 2, label: 'b' },
          { factor: 'push', device: 3, label: 'c' },
        ],
      }).factors.default,
    ).toBe('push2');
    expect(
      buildPrompt({
        username: 'u',
        options: [
          { factor: 'sms', device: 1, label: 'a' },
          { factor: 'phone', device: 2, label: 'b' },
        ],
      }).factors.default,
    ).toBe('phone2');
    expect(buildPrompt({ username: 'u', options: [{ factor: 'sms', device: 1, label: 'a' }] }).factors).toEqual({ '1': 'sms1' });
  });

  it('strips control characters from the username and labels (terminal escape injection)', () => {
    const prompt = buildPrompt({
      username: 'ali\x1b[2Jce\r\n\u0007',
      options: [{ factor: 'push', device: 1, label: 'Push\x1b]0;pwned\x07 to \u202Eevil\u009b' }],
    });
    expect(prompt.text).toBe(
      // The printable remainder of an escape sequence is harmless once ESC/BEL/CSI are gone.
      'Tandem two-factor login for ali[2Jce\n\nEnter a passcode or select one of the following options:\n\n 1. Push]0;pwned to evil\n\nPasscode or option (1-1): ',
    );
    // eslint-disable-next-line no-control-regex -- checking for control characters
    expect(prompt.text.replace(/\n/g, '')).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202e]/);
  });

  it('numbers ten or more options', () => {
    const options = Array.from({ length: 10 }, (_, i) => ({ factor: 'push' as const, device: i + 1, label: `d${i + 1}` }));
    const prompt = buildPrompt({ username: 'u', options });
    expect(prompt.text).toContain(' 10. d10\n\nPasscode or option (1-10): ');
    expect(prompt.factors['10']).toBe('push10');
  });
});
