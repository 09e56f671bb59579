// PNG icons for the Tandem Authenticator (web/app/icon.svg's design, drawn full-bleed so the
// 512 px one also works as a maskable icon). Rendered at build time with node:zlib, no packages.
import { deflateSync } from 'node:zlib';

const BG = [0x1d, 0x4f, 0x7a];
const RINGS = [
  { cx: 196, cy: 256, r: 104, width: 36, color: [0xff, 0xff, 0xff] },
  { cx: 316, cy: 256, r: 104, width: 36, color: [0x9f, 0xd3, 0xff] },
];

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** The icon as an RGB PNG of `size`×`size` pixels (4×4 supersampling for smooth rings). */
export function iconPng(size) {
  const scale = 512 / size;
  const SS = 4;
  const raw = Buffer.alloc((size * 3 + 1) * size);
  for (let y = 0; y < size; y++) {
    const row = y * (size * 3 + 1);
    raw[row] = 0; // filter: none
    for (let x = 0; x < size; x++) {
      const acc = [0, 0, 0];
      for (let sy = 0; sy < SS; sy++) {
        for (let sx = 0; sx < SS; sx++) {
          const px = (x + (sx + 0.5) / SS) * scale;
          const py = (y + (sy + 0.5) / SS) * scale;
          let color = BG;
          for (const ring of RINGS) {
            const d = Math.hypot(px - ring.cx, py - ring.cy);
            if (Math.abs(d - ring.r) <= ring.width / 2) color = ring.color;
          }
          acc[0] += color[0];
          acc[1] += color[1];
          acc[2] += color[2];
        }
      }
      for (let i = 0; i < 3; i++) raw[row + 1 + x * 3 + i] = Math.round(acc[i] / (SS * SS));
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: RGB
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
}
