import { describe, expect, it } from 'vitest';
import { qrMatrix, renderMatrix, renderQr } from './qr.js';

/** A RegExp whose source says ESC for the escape character (keeps control characters out of literals). */
function esc(source: string, flags = ''): RegExp {
  return new RegExp(source.replace(/ESC/g, String.fromCharCode(27)), flags);
}

const URL = 'otpauth://totp/alice@host?secret=JBSWY3DPEHPK3PXP&issuer=host';

/** Reads the dark modules back from an ANSI rendering (reverse video = ink). */
function readAnsi(text: string, inverse: boolean): boolean[][] {
  return text
    .slice(0, -1)
    .split('\n')
    .map((line) => {
      const cells: boolean[] = [];
      let on = false;
      for (const part of line.replace(esc('ESC\\[0m$'), '').replace(esc('^ESC\\[30;47;27m'), '').split(esc('(ESC\\[\\d+m)'))) {
        if (part === '\x1b[7m') on = true;
        else if (part === '\x1b[27m') on = false;
        else for (let i = 0; i < part.length; i += 2) cells.push(on !== inverse);
      }
      return cells;
    });
}

function readUtf8(text: string, inverse: boolean): boolean[][] {
  const rows: boolean[][] = [];
  for (const line of text.slice(0, -1).split('\n')) {
    const body = line.replace(esc('ESC\\[[0-9;]*m', 'g'), '');
    const top: boolean[] = [];
    const bottom: boolean[] = [];
    for (const ch of body) {
      top.push((ch === '\u2580' || ch === '\u2588') !== inverse);
      bottom.push((ch === '\u2584' || ch === '\u2588') !== inverse);
    }
    rows.push(top, bottom);
  }
  return rows;
}

function expected(quiet = 2): boolean[][] {
  const m = qrMatrix(URL);
  const rows: boolean[][] = [];
  for (let r = -quiet; r < m.size + quiet; r++) {
    const row: boolean[] = [];
    for (let c = -quiet; c < m.size + quiet; c++) row.push(m.dark(r, c));
    rows.push(row);
  }
  return rows;
}

describe('terminal QR codes', () => {
  it('ECC level M, version chosen automatically', () => {
    expect(qrMatrix(URL).size).toBe(33); // version 4 at level M for this 63-byte URL
  });

  it('ANSI, ANSI_INVERSE and ANSI_GREY draw every module (2 spaces each) with a 2-module quiet zone', () => {
    for (const [mode, inverse] of [['ANSI', false], ['ANSI_INVERSE', true], ['ANSI_GREY', false]] as const) {
      const text = renderQr(URL, mode);
      expect(readAnsi(text, inverse), mode).toEqual(expected());
      for (const line of text.split('\n').slice(0, -1)) expect(line.endsWith('\x1b[0m')).toBe(true);
      if (mode === 'ANSI_GREY') expect(text.startsWith('\x1b[30;47;27m')).toBe(true);
    }
  });

  it('UTF8 variants pack two rows per line with half blocks', () => {
    for (const [mode, inverse] of [['UTF8', false], ['UTF8_INVERSE', true], ['UTF8_GREY', false]] as const) {
      const text = renderQr(URL, mode);
      const m = qrMatrix(URL);
      expect(text.split('\n').length - 1).toBe(Math.ceil((m.size + 4) / 2));
      const rows = readUtf8(text, inverse).slice(0, m.size + 4);
      // The padding row under an odd last line is neither ink nor paper; compare the real rows.
      expect(rows, mode).toEqual(expected());
    }
    expect(renderQr(URL, 'UTF8_INVERSE').split('\n')[0]).toBe('\u2588'.repeat(qrMatrix(URL).size + 4));
  });

  it('NONE draws nothing', () => {
    expect(renderQr(URL, 'NONE')).toBe('');
  });

  it('renders a tiny matrix exactly', () => {
    const m = { size: 1, dark: (r: number, c: number) => r === 0 && c === 0 };
    expect(renderMatrix(m, 'ANSI').split('\n')[2]).toBe('    \x1b[7m  \x1b[27m    \x1b[0m');
    expect(renderMatrix(m, 'UTF8')).toBe('     \n  \u2580  \n     \n');
  });
});
