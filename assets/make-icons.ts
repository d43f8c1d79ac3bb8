// Draws the app's icons and writes them as PNGs with nothing but zlib, so they can be regenerated
// anywhere: `node assets/make-icons.ts`. A white speech bubble with three dots on indigo (the app
// icon), the same bubble in indigo (tray), and a red dot (the Windows taskbar unread overlay).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { crc32, deflateSync } from 'node:zlib';

type Rgb = readonly [number, number, number];
/** A shape in unit coordinates (0..1 across the image): is this point inside? */
type Shape = (x: number, y: number) => boolean;
interface Layer {
  color: Rgb;
  shape: Shape;
}

const INDIGO: Rgb = [79, 70, 229];
const WHITE: Rgb = [255, 255, 255];
const RED: Rgb = [220, 38, 38];

const roundedRect =
  (x0: number, y0: number, x1: number, y1: number, r: number): Shape =>
  (x, y) => {
    const dx = Math.max(x0 + r - x, 0, x - (x1 - r));
    const dy = Math.max(y0 + r - y, 0, y - (y1 - r));
    return x >= x0 && x <= x1 && y >= y0 && y <= y1 && dx * dx + dy * dy <= r * r;
  };

const circle =
  (cx: number, cy: number, r: number): Shape =>
  (x, y) =>
    (x - cx) ** 2 + (y - cy) ** 2 <= r * r;

/** Counter-clockwise or not, a point is inside when it is on the same side of all three edges. */
const triangle = (a: [number, number], b: [number, number], c: [number, number]): Shape => {
  const side = (p: [number, number], q: [number, number], x: number, y: number) => (q[0] - p[0]) * (y - p[1]) - (q[1] - p[1]) * (x - p[0]);
  return (x, y) => {
    const s = [side(a, b, x, y), side(b, c, x, y), side(c, a, x, y)];
    return s.every((v) => v >= 0) || s.every((v) => v <= 0);
  };
};

const union =
  (...shapes: Shape[]): Shape =>
  (x, y) =>
    shapes.some((shape) => shape(x, y));

/** A speech bubble filling the box (x0, y0)-(x1, y1), its tail at the bottom left. */
function bubble(x0: number, y0: number, x1: number, y1: number): { body: Shape; dots: Shape } {
  const w = x1 - x0;
  const h = y1 - y0;
  const bodyBottom = y0 + h * 0.78;
  const body = union(
    roundedRect(x0, y0, x1, bodyBottom, h * 0.2),
    triangle([x0 + w * 0.16, bodyBottom - h * 0.05], [x0 + w * 0.1, y1], [x0 + w * 0.44, bodyBottom - h * 0.05]),
  );
  const cy = (y0 + bodyBottom) / 2;
  const r = w * 0.075;
  const dots = union(circle(x0 + w * 0.28, cy, r), circle(x0 + w * 0.5, cy, r), circle(x0 + w * 0.72, cy, r));
  return { body, dots };
}

/** 4x4 samples per pixel for smooth edges; layers are painted in order, each over the last. */
function render(size: number, layers: Layer[]): Uint8Array {
  const n = 4;
  const rgba = new Uint8Array(size * size * 4);
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let [r, g, b, a] = [0, 0, 0, 0];
      for (const { color, shape } of layers) {
        let hits = 0;
        for (let sy = 0; sy < n; sy++) {
          for (let sx = 0; sx < n; sx++) if (shape((px + (sx + 0.5) / n) / size, (py + (sy + 0.5) / n) / size)) hits++;
        }
        const cover = hits / (n * n);
        // Premultiplied "over".
        r = color[0] * cover + r * (1 - cover);
        g = color[1] * cover + g * (1 - cover);
        b = color[2] * cover + b * (1 - cover);
        a = cover + a * (1 - cover);
      }
      const i = (py * size + px) * 4;
      rgba.set(a > 0 ? [r / a, g / a, b / a, a * 255].map(Math.round) : [0, 0, 0, 0], i);
    }
  }
  return rgba;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** 8-bit RGBA, every scanline with filter 0 (none). */
function png(size: number, rgba: Uint8Array): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header.set([8, 6, 0, 0, 0], 8);
  const stride = size * 4;
  const raw = Buffer.alloc((stride + 1) * size);
  for (let y = 0; y < size; y++) raw.set(rgba.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', new Uint8Array()),
  ]);
}

const appBubble = bubble(0.19, 0.23, 0.81, 0.82);
const trayBubble = bubble(0.06, 0.1, 0.94, 0.94);
const icons: Record<string, [size: number, layers: Layer[]]> = {
  'icon.png': [
    512,
    [
      { color: INDIGO, shape: roundedRect(0.03, 0.03, 0.97, 0.97, 0.22) },
      { color: WHITE, shape: appBubble.body },
      { color: INDIGO, shape: appBubble.dots },
    ],
  ],
  'tray.png': [
    32,
    [
      { color: INDIGO, shape: trayBubble.body },
      { color: WHITE, shape: trayBubble.dots },
    ],
  ],
  'overlay.png': [
    16,
    [
      { color: WHITE, shape: circle(0.5, 0.5, 0.5) },
      { color: RED, shape: circle(0.5, 0.5, 0.4) },
    ],
  ],
};

for (const [name, [size, layers]] of Object.entries(icons)) {
  writeFileSync(path.join(import.meta.dirname, name), png(size, render(size, layers)));
}
