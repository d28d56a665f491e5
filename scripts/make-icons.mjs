// Draws the EnergyApp icon (public/favicon.svg: teal rounded square, yellow lightning bolt) into the PNGs the
// PWA manifest and iOS need. Pure Node (node:zlib), no image library: the shapes are a rounded square and one
// polygon, rasterised with 4×4 supersampling. Run: node scripts/make-icons.mjs
import { writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { deflateSync } from 'node:zlib'

const TEAL = [0x0f, 0x76, 0x6e]
const YELLOW = [0xfd, 0xe0, 0x47]
// the bolt of favicon.svg, in its 64×64 box: M36 8 16 36h14l-4 20 22-30H34z
const BOLT = [[36, 8], [16, 36], [30, 36], [26, 56], [48, 26], [34, 26]]
const SAMPLES = 4

function insidePolygon(x, y, points) {
  let inside = false
  for (let i = 0, j = points.length - 1; i < points.length; j = i++) {
    const [xi, yi] = points[i]
    const [xj, yj] = points[j]
    if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside
  }
  return inside
}

function insideRoundedSquare(x, y, radius) {
  const cx = Math.min(Math.max(x, radius), 64 - radius)
  const cy = Math.min(Math.max(y, radius), 64 - radius)
  return (x - cx) ** 2 + (y - cy) ** 2 <= radius ** 2
}

/**
 * RGBA pixels of one icon. `radius`: corner radius in the 64-unit box (0 = square, opaque).
 * `boltScale`: the bolt's size around the centre (maskable icons keep it inside the safe zone).
 */
function draw(size, { radius, boltScale }) {
  const bolt = BOLT.map(([x, y]) => [32 + (x - 32) * boltScale, 32 + (y - 32) * boltScale])
  const pixels = Buffer.alloc(size * size * 4)
  const unit = 64 / size
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let background = 0
      let foreground = 0
      for (let sy = 0; sy < SAMPLES; sy++) {
        for (let sx = 0; sx < SAMPLES; sx++) {
          const x = (px + (sx + 0.5) / SAMPLES) * unit
          const y = (py + (sy + 0.5) / SAMPLES) * unit
          if (!insideRoundedSquare(x, y, radius)) continue
          if (insidePolygon(x, y, bolt)) foreground++
          else background++
        }
      }
      const total = SAMPLES * SAMPLES
      const covered = background + foreground
      const i = (py * size + px) * 4
      for (let c = 0; c < 3; c++)
        pixels[i + c] = covered ? Math.round((TEAL[c] * background + YELLOW[c] * foreground) / covered) : 0
      pixels[i + 3] = Math.round((covered / total) * 255)
    }
  }
  return pixels
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
  return c >>> 0
})

function crc32(buffer) {
  let c = 0xffffffff
  for (const byte of buffer) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}

function chunk(type, data) {
  const length = Buffer.alloc(4)
  length.writeUInt32BE(data.length)
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data])
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(body))
  return Buffer.concat([length, body, crc])
}

function png(size, pixels) {
  const header = Buffer.alloc(13)
  header.writeUInt32BE(size, 0)
  header.writeUInt32BE(size, 4)
  header[8] = 8 // bit depth
  header[9] = 6 // RGBA
  const rows = Buffer.alloc(size * (size * 4 + 1))
  for (let y = 0; y < size; y++) pixels.copy(rows, y * (size * 4 + 1) + 1, y * size * 4, (y + 1) * size * 4)
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ])
}

const ICONS = [
  { file: 'icon-192.png', size: 192, radius: 14, boltScale: 1 },
  { file: 'icon-512.png', size: 512, radius: 14, boltScale: 1 },
  // maskable: full bleed; the launcher crops to its own shape, the bolt stays in the 80 % safe circle
  { file: 'icon-maskable-512.png', size: 512, radius: 0, boltScale: 0.72 },
  // iOS rounds the corners itself and shows transparency as black
  { file: 'apple-touch-icon.png', size: 180, radius: 0, boltScale: 0.85 },
]

const publicDir = resolve(import.meta.dirname, '../public')
for (const icon of ICONS) {
  writeFileSync(resolve(publicDir, icon.file), png(icon.size, draw(icon.size, icon)))
  console.log(`public/${icon.file} (${icon.size}×${icon.size})`)
}
