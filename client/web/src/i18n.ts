// The app's strings: every piece of text on screen comes from a translation file.
import en from './locales/en.json'
import es from './locales/es.json'
import fr from './locales/fr.json'

export type Key = keyof typeof en
type Table = Record<Key, string>

const tables: Record<string, Table> = { en, fr: fr satisfies Table, es: es satisfies Table }
export const LANGUAGES = ['en', 'fr', 'es'] as const
const STORAGE_KEY = 'gess.language'

function pick(): string {
  const saved = localStorage.getItem(STORAGE_KEY)
  if (saved !== null && saved in tables) return saved
  for (const wanted of navigator.languages) {
    const short = wanted.slice(0, 2).toLowerCase()
    if (short in tables) return short
  }
  return 'en'
}

let language = pick()
document.documentElement.lang = language

export function currentLanguage(): string {
  return language
}

/** Switches the language for this browser (the page is drawn again by the caller). */
export function setLanguage(next: string): void {
  if (!(next in tables)) return
  language = next
  localStorage.setItem(STORAGE_KEY, next)
  document.documentElement.lang = next
}

/** The string for ``key``, with ``{name}`` placeholders filled from ``values``. */
export function t(key: Key, values: Record<string, string | number> = {}): string {
  const text = tables[language]?.[key] ?? en[key]
  return text.replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in values ? String(values[name]) : whole,
  )
}

/** A date and time the way the reader's language writes it. */
export function when(iso: string): string {
  return new Date(iso).toLocaleString(language, { dateStyle: 'medium', timeStyle: 'short' })
}

/** A string that may not exist (content named by the server, e.g. a template): or undefined. */
export function lookup(key: string): string | undefined {
  const table = tables[language] as Record<string, string> | undefined
  return table?.[key] ?? (en as Record<string, string>)[key]
}

/** How long ago ``iso`` was, in words of the reader's language ("5 minutes ago", "il y a 5 minutes"). */
export function ago(iso: string, now: number = Date.now()): string {
  const seconds = Math.round((new Date(iso).getTime() - now) / 1000)
  const format = new Intl.RelativeTimeFormat(language, { numeric: 'auto' })
  const steps: Array<[Intl.RelativeTimeFormatUnit, number]> = [
    ['second', 60],
    ['minute', 60],
    ['hour', 24],
    ['day', 30],
    ['month', 12],
  ]
  let amount = seconds
  for (const [unit, size] of steps) {
    if (Math.abs(amount) < size) return format.format(amount, unit)
    amount = Math.round(amount / size)
  }
  return format.format(amount, 'year')
}

/** A count written the reader's way (1,234 · 1 234 · 1.234). */
export function count(value: number): string {
  return new Intl.NumberFormat(language).format(value)
}
