// Who is here: one avatar per person with the document open, in the colour of their caret.
// Names and colours come from the ``user`` field the server sets from each account.
import type { Awareness } from 'y-protocols/awareness'
import { h, replace } from '../dom'

interface Person {
  name: string
  color: string
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
        avatar.style.backgroundColor = person.color
        return avatar
      }),
    )
  }
  awareness.on('change', draw)
  draw()
}
