// Terminal QR codes as google-authenticator draws them (reference §2.4): ECC level M, a
// 2-module quiet zone; ANSI modes use two spaces per module and reverse video for the "ink",
// UTF8 modes pack two rows per line with half blocks. _INVERSE swaps ink and paper (for light
// text on a dark terminal); _GREY draws black on a grey background, which scans on either.
import QRCode from 'qrcode';
import type { QrMode } from './options.js';

const ESC = '\x1b[';
const RESET = `${ESC}0m`;
const REVERSE = `${ESC}7m`;
const NO_REVERSE = `${ESC}27m`;
const BLACK_ON_GREY = `${ESC}30;47;27m`;
const QUIET = 2;

export interface QrMatrix {
  size: number;
  dark(row: number, col: number): boolean;
}

export function qrMatrix(text: string): QrMatrix {
  const qr = QRCode.create(text, { errorCorrectionLevel: 'M' });
  const { size, data } = qr.modules;
  return { size, dark: (r, c) => r >= 0 && c >= 0 && r < size && c < size && data[r * size + c] === 1 };
}

/** The QR code for `text` as terminal output (every line ends in '\n'); '' for NONE. */
export function renderQr(text: string, mode: QrMode): string {
  if (mode === 'NONE') return '';
  return renderMatrix(qrMatrix(text), mode);
}

export function renderMatrix(m: QrMatrix, mode: Exclude<QrMode, 'NONE'>): string {
  const inverse = mode.endsWith('_INVERSE');
  const grey = mode.endsWith('_GREY');
  // "ink" = the module is drawn with the terminal's foreground colour.
  const ink = (r: number, c: number): boolean => m.dark(r, c) !== inverse;
  const lo = -QUIET;
  const hi = m.size + QUIET;
  const lines: string[] = [];
  if (mode.startsWith('ANSI')) {
    for (let r = lo; r < hi; r++) {
      let line = grey ? BLACK_ON_GREY : '';
      let on = false;
      for (let c = lo; c < hi; c++) {
        const want = ink(r, c);
        if (want !== on) line += want ? REVERSE : NO_REVERSE;
        on = want;
        line += '  ';
      }
      if (on) line += NO_REVERSE;
      lines.push(line + RESET);
    }
  } else {
    for (let r = lo; r < hi; r += 2) {
      let line = grey ? BLACK_ON_GREY : '';
      for (let c = lo; c < hi; c++) {
        const top = ink(r, c);
        const bottom = r + 1 < hi && ink(r + 1, c);
        line += top ? (bottom ? '\u2588' : '\u2580') : bottom ? '\u2584' : ' ';
      }
      lines.push(grey ? line + RESET : line);
    }
  }
  return lines.map((l) => `${l}\n`).join('');
}
