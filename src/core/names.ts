// Validation of names that come from operators and from Unix hosts (usernames, integration
// names). They end up in logs, prompts and web pages, so control characters are refused.
import { CoreError } from './errors.js';

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

export function checkName(kind: string, value: unknown, max = 100): string {
  if (typeof value !== 'string' || value.length === 0) throw new CoreError('bad_request', `${kind} is required`);
  if (value.length > max) throw new CoreError('bad_request', `${kind} is longer than ${max} characters`);
  if (CONTROL.test(value)) throw new CoreError('bad_request', `${kind} contains control characters`);
  if (value.trim() !== value) throw new CoreError('bad_request', `${kind} has leading or trailing spaces`);
  return value;
}
