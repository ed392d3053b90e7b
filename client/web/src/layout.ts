// The frame of every page: a header (home, language, account) and the main region.
import { append, h, replace } from './dom'
import { currentLanguage, LANGUAGES, setLanguage, t, type Key } from './i18n'
import { draw, navigate } from './router'
import { signOut } from './session'
import type { User } from './types'

const root = (): HTMLElement => document.getElementById('app') as HTMLElement

/** The header's extra items (a notification count, a saved state) go in ``extras``. */
export function shell(user: User | null, ...extras: Node[]): HTMLElement {
  const language = h(
    'select',
    {
      'aria-label': t('language'),
      onchange: (event) => {
        setLanguage((event.target as HTMLSelectElement).value)
        void draw()
      },
    },
    ...LANGUAGES.map((code) =>
      h('option', { value: code, selected: code === currentLanguage() }, t(`language.${code}` as Key)),
    ),
  )
  const account = user
    ? h(
        'div',
        { class: 'account' },
        h('span', { class: 'who' }, user.name),
        h(
          'button',
          {
            type: 'button',
            class: 'quiet',
            onclick: () => void signOut(() => navigate('/login')),
          },
          t('sign_out'),
        ),
      )
    : null
  const main = h('main', { id: 'main' })
  replace(
    root(),
    h('a', { class: 'skip', href: '#main' }, t('skip_to_content')),
    h(
      'header',
      { class: 'top' },
      h('a', { class: 'brand', href: '/' }, t('app_name')),
      h('div', { class: 'top-extras' }, ...extras),
      h('div', { class: 'top-end' }, language, account),
    ),
    main,
  )
  return main
}

/** A page title that receives focus after navigation, so a screen reader announces it. */
export function title(text: string): HTMLHeadingElement {
  document.title = `${text} · ${t('app_name')}`
  const heading = h('h1', { tabindex: -1 }, text)
  queueMicrotask(() => heading.focus({ preventScroll: true }))
  return heading
}

/** A live region for errors and confirmations. */
export function notice(): HTMLParagraphElement {
  return h('p', { class: 'notice', role: 'status', 'aria-live': 'polite' })
}

export function showError(target: HTMLElement, message: string): void {
  target.classList.add('error')
  replace(target, message)
}

export function showInfo(target: HTMLElement, message: string): void {
  target.classList.remove('error')
  replace(target, message)
}

export { append }
