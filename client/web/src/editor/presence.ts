// Who is here: one avatar per person with the document open, in the colour of their caret.
// Names and colours come from the ``user`` field the server sets from each account.
import type { Awareness } from 'y-protocols/awareness'
import { h, replace } from '../dom'

interface Person {
  name: string
  color: string
}

/**
 * A person's colour, darkened enough for white text on it to be readable (WCAG AA): the
 * server picks the colours for carets, which are thin lines, not for text backgrounds. At 70%
 * its yellows gave 4.4:1 under white text; at 60% every hue it picks passes 4.5:1.
 */
export function shade(color: string): string {
  return `color-mix(in srgb, ${color} 60%, #000)`
}

/** The caret TipTap draws for another person: a line in their colour and their name. */
export function caret(user: Record<string, unknown>): HTMLElement {
  const color = typeof user.color === 'string' ? user.color : '#5b6b7f'
  const line = h('span', { class: 'collaboration-carets__caret' })
  line.style.borderColor = color
  const label = h('div', { class: 'collaboration-carets__label' }, typeof user.name === 'string' ? user.name : '')
  label.style.backgroundColor = shade(color)
  line.append(label)
  return line
}

function initials(name: string): string {
  const parts = name.trim().split(/\s+/)
  return ((parts[0]?.[0] ?? '?') + (parts.length > 1 ? (parts[parts.length - 1]?.[0] ?? '') : '')).toUpperCase()
}

export function presence(awareness: Awareness, list: HTMLElement): void {
  const draw = (): void => {
    const people = new Map<string, Person>()
    for (const state of awareness.getStates().values()) {
      const user = (state as { user?: { id?: string; name?: unknown; color?: unknown } }).user
      if (!user || typeof user.name !== 'string') continue
      const key = user.id ?? user.name
      people.set(key, { name: user.name, color: typeof user.color === 'string' ? user.color : '#5b6b7f' })
    }
    replace(
      list,
      ...[...people.values()].map((person) => {
        const avatar = h('li', { class: 'avatar', title: person.name }, h('span', { 'aria-hidden': 'true' }, initials(person.name)), h('span', { class: 'visually-hidden' }, person.name))
        avatar.style.backgroundColor = shade(person.color)
        return avatar
      }),
    )
  }
  awareness.on('change', draw)
  draw()
}
