// The text-prompt menu of Duo preauth (`text_prompt=1`) and the choice duo_unix sends back in
// auth (`prompt=` in 2.2+, `auto=` in 1.11.3). See duo_unix.md §3.3–3.4: the client prints
// `prompt.text` verbatim, maps the typed menu number through `prompt.factors`, and sends either
// the mapped factor (`push1`), the raw text (a passcode), or DUO_PASSCODE verbatim.
import { stripControlChars } from './text-checks.js';

export type PromptFactor = 'push' | 'phone' | 'sms';

export type PromptChoice =
  | { kind: 'factor'; factor: PromptFactor | 'auto'; device: number }
  | { kind: 'passcode'; passcode: string };

// Factor names duo_unix and mockduo use. mockduo's menu offers voice1 (a phone call) and
// smsrefresh1 (send new SMS passcodes); Duo's Auth API calls the same things phone and sms.
const FACTOR_WORDS: Record<string, PromptFactor | 'auto'> = {
  push: 'push',
  phone: 'phone',
  voice: 'phone',
  sms: 'sms',
  smsrefresh: 'sms',
  auto: 'auto',
};

/**
 * `push`, `push1`, `phone2`, `sms1`, `voice1`, `smsrefresh1`, `auto` (case-insensitive, device
 * index 1..999, default 1) select a factor; anything else is a passcode, trimmed of surrounding
 * whitespace (terminals and DUO_PASSCODE may add CR/LF). An index of 0 or a longer number is not
 * a factor and falls through to passcode checking, which rejects it.
 */
export function parsePromptChoice(value: string): PromptChoice {
  const trimmed = value.trim();
  const m = /^([a-z]+)([1-9][0-9]{0,2})?$/i.exec(trimmed);
  if (m !== null) {
    const factor = FACTOR_WORDS[m[1]!.toLowerCase()];
    if (factor !== undefined) return { kind: 'factor', factor, device: m[2] === undefined ? 1 : Number(m[2]) };
  }
  return { kind: 'passcode', passcode: trimmed };
}

export interface PromptOption {
  factor: PromptFactor;
  device: number;
  label: string;
}

/**
 * Tandem's own wording of the menu (the layout duo_unix users know, not Duo's text).
 * `factors` maps "1".."N" to the factor value the client sends back, plus `default`, which
 * duo_unix needs for autopush and headless logins: the first push option, else the first phone
 * option, else no default (duo_unix then reports "No default factor found").
 */
export function buildPrompt(input: { username: string; options: PromptOption[]; passcode?: boolean }): {
  text: string;
  factors: Record<string, string>;
} {
  const username = stripControlChars(input.username);
  const header = `Tandem two-factor login for ${username}\n\n`;
  // `passcode: false`: the integration allows no passcode factor, so the menu does not ask for one.
  const passcode = input.passcode ?? true;
  if (input.options.length === 0) return { text: `${header}Enter a passcode: `, factors: {} };

  const factors: Record<string, string> = {};
  const lines: string[] = [];
  input.options.forEach((option, i) => {
    const key = String(i + 1);
    factors[key] = `${option.factor}${option.device}`;
    lines.push(` ${key}. ${stripControlChars(option.label)}`);
  });
  const defaultOption = input.options.find((o) => o.factor === 'push') ?? input.options.find((o) => o.factor === 'phone');
  if (defaultOption !== undefined) factors['default'] = `${defaultOption.factor}${defaultOption.device}`;

  const n = input.options.length;
  const text = passcode
    ? `${header}Enter a passcode or select one of the following options:\n\n${lines.join('\n')}\n\nPasscode or option (1-${n}): `
    : `${header}Select one of the following options:\n\n${lines.join('\n')}\n\nOption (1-${n}): `;
  return { text, factors };
}
