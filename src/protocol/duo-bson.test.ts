import { deserialize } from 'bson';
import { describe, expect, it } from 'vitest';
import { encodeBson } from './duo-bson.js';

/** Reads the type byte of a top-level element, the way duo_unix's bson parser checks it. */
function elementType(doc: Buffer, name: string): number {
  let i = 4;
  while (i < doc.length - 1) {
    const type = doc[i]!;
    const end = doc.indexOf(0, i + 1);
    const key = doc.subarray(i + 1, end).toString();
    if (key === name) return type;
    i = end + 1;
    if (type === 0x02) i += 4 + doc.readInt32LE(i);
    else if (type === 0x03) i += doc.readInt32LE(i);
    else if (type === 0x10) i += 4;
    else throw new Error(`unexpected type ${type}`);
  }
  throw new Error(`no element ${name}`);
}

describe('encodeBson', () => {
  it('encodes a FAIL envelope with an int32 code and string message', () => {
    const b = encodeBson({ stat: 'FAIL', code: 40002, message: 'Invalid request parameters' });
    expect(deserialize(b)).toEqual({ stat: 'FAIL', code: 40002, message: 'Invalid request parameters' });
    expect(elementType(b, 'stat')).toBe(0x02);
    expect(elementType(b, 'code')).toBe(0x10);
    expect(elementType(b, 'message')).toBe(0x02);
    expect(b.readInt32LE(0)).toBe(b.length);
  });

  it('encodes the OK envelope with an embedded response document and a factors document', () => {
    const b = encodeBson({ stat: 'OK', response: { result: 'auth', prompt: 'Passcode: ', factors: { default: 'push1', '1': 'push1' } } });
    expect(elementType(b, 'response')).toBe(0x03);
    expect(deserialize(b)).toEqual({ stat: 'OK', response: { result: 'auth', prompt: 'Passcode: ', factors: { default: 'push1', '1': 'push1' } } });
  });

  it('leaves out undefined fields and refuses a non-integer code', () => {
    expect(deserialize(encodeBson({ stat: 'OK', response: { status: 'x', result: undefined } }))).toEqual({ stat: 'OK', response: { status: 'x' } });
    expect(() => encodeBson({ stat: 'FAIL', code: 1.5, message: 'm' })).toThrow(TypeError);
  });
});
