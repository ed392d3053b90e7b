// Builds the app into server/static/: index.html plus content-hashed assets under assets/.
// Deterministic: the same sources and lock file give the same bytes, so scripts/check can
// rebuild and compare with what is committed.
import { build } from 'esbuild'
import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { basename, dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const out = join(here, '..', '..', 'server', 'static')
const assets = join(out, 'assets')

rmSync(out, { recursive: true, force: true })
mkdirSync(assets, { recursive: true })

const result = await build({
  absWorkingDir: here,
  entryPoints: { app: 'src/main.ts', style: 'src/style.css' },
  bundle: true,
  splitting: true,
  format: 'esm',
  target: ['es2022'],
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  charset: 'utf8',
  entryNames: '[name]-[hash]',
  chunkNames: '[name]-[hash]',
  outdir: assets,
  metafile: true,
  logLevel: 'warning',
})

const entry = (name) => {
  for (const [file, meta] of Object.entries(result.metafile.outputs)) {
    if (meta.entryPoint !== undefined && basename(file).startsWith(`${name}-`)) {
      return '/' + relative(out, join(here, file)).split('\\').join('/')
    }
  }
  throw new Error(`no output for ${name}`)
}

const template = readFileSync(join(here, 'src', 'index.html'), 'utf8')
writeFileSync(
  join(out, 'index.html'),
  template.replace('%STYLE%', entry('style')).replace('%SCRIPT%', entry('app')),
)

// The service worker: not hashed (its URL must stay /sw.js, at the top so that its scope
// covers every app URL), built with the list of this build's assets to keep offline.
const shell = Object.keys(result.metafile.outputs)
  .map((file) => '/' + relative(out, join(here, file)).split('\\').join('/'))
  .sort()
await build({
  absWorkingDir: here,
  entryPoints: ['src/sw.ts'],
  bundle: true,
  format: 'iife',
  target: ['es2022'],
  minify: true,
  legalComments: 'none',
  charset: 'utf8',
  outfile: join(out, 'sw.js'),
  define: {
    SHELL: JSON.stringify(shell),
    BUILD: JSON.stringify(createHash('sha256').update(shell.join('\n')).digest('hex').slice(0, 16)),
  },
  logLevel: 'warning',
})
