// A comment box that can mention members: typing "@" offers the workspace's members in a
// listbox (Arrow keys choose, Enter or Tab take, Escape closes), announced through the
// textarea's aria-autocomplete, aria-controls and aria-activedescendant. The text shows
// "@Name"; the body sent to the server holds "<@USER_ID>", the form it notifies.
import { h, replace } from '../../dom'
import { t } from '../../i18n'
import type { Actor } from '../../types'

let fields = 0
const MAX_OPTIONS = 8

export interface MentionField {
  element: HTMLElement
  textarea: HTMLTextAreaElement
  /** The text with each chosen "@Name" as "<@USER_ID>". */
  body(): string
  /** Shows ``body`` (a stored one) with its mentions as names. */
  set(body: string, mentions: readonly Actor[]): void
  clear(): void
}

export function mentionField(label: string, members: () => Promise<Actor[]>): MentionField {
  const id = `mention-${++fields}`
  const listbox = h('ul', { id: `${id}-list`, role: 'listbox', class: 'mention-list', 'aria-label': t('comments.members'), hidden: true })
  const status = h('span', { class: 'visually-hidden', role: 'status' })
  const textarea = h('textarea', {
    id,
    rows: 3,
    required: true,
    'aria-autocomplete': 'list',
    'aria-haspopup': 'listbox',
    'aria-controls': listbox.id,
  })
  const chosen = new Map<string, string>()
  let options: Actor[] = []
  let active = 0
  let at = -1

  const close = (): void => {
    listbox.hidden = true
    textarea.removeAttribute('aria-activedescendant')
    options = []
    at = -1
  }
  const draw = (): void => {
    replace(
      listbox,
      ...options.map((member, index) =>
        h(
          'li',
          {
            id: `${id}-option-${index}`,
            role: 'option',
            'aria-selected': String(index === active),
            // Keep the focus in the textarea: a click must not blur it.
            onmousedown: (event) => {
              event.preventDefault()
              take(index)
            },
          },
          member.name,
        ),
      ),
    )
    listbox.hidden = false
    textarea.setAttribute('aria-activedescendant', `${id}-option-${active}`)
  }
  const take = (index: number): void => {
    const member = options[index]
    if (member === undefined || at < 0) return
    const before = textarea.value.slice(0, at)
    const text = `@${member.name} `
    textarea.value = before + text + textarea.value.slice(textarea.selectionStart)
    textarea.setSelectionRange(before.length + text.length, before.length + text.length)
    chosen.set(`@${member.name}`, member.id)
    close()
  }
  const suggest = async (): Promise<void> => {
    const upto = textarea.value.slice(0, textarea.selectionStart)
    const match = /(?:^|\s)@([^@\n]{0,40})$/.exec(upto)
    if (match === null) {
      close()
      return
    }
    const query = (match[1] ?? '').toLocaleLowerCase()
    const everyone = await members().catch(() => [])
    const found = everyone.filter((member) => member.name.toLocaleLowerCase().includes(query)).slice(0, MAX_OPTIONS)
    if (found.length === 0) {
      close()
      replace(status, query ? t('comments.no_member') : '')
      return
    }
    at = upto.length - query.length - 1
    options = found
    active = Math.min(active, found.length - 1)
    draw()
    replace(status, t('comments.member_count', { count: found.length }))
  }
  textarea.addEventListener('input', () => {
    active = 0
    void suggest()
  })
  textarea.addEventListener('blur', close)
  textarea.addEventListener('keydown', (event) => {
    if (listbox.hidden) return
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      active = (active + (event.key === 'ArrowDown' ? 1 : options.length - 1)) % options.length
      draw()
    } else if (event.key === 'Enter' || event.key === 'Tab') {
      take(active)
    } else if (event.key === 'Escape') {
      close()
      event.stopPropagation()
    } else return
    event.preventDefault()
  })

  return {
    element: h('div', { class: 'field mention-field' }, h('label', { for: id }, label), textarea, listbox, status),
    textarea,
    body: () => {
      let text = textarea.value
      // Longest names first, so that "@Ana María" is not taken for "@Ana".
      for (const [name, userId] of [...chosen].sort((a, b) => b[0].length - a[0].length)) {
        text = text.split(name).join(`<@${userId}>`)
      }
      return text
    },
    set: (body, mentions) => {
      let text = body
      for (const member of mentions) {
        text = text.split(`<@${member.id}>`).join(`@${member.name}`)
        chosen.set(`@${member.name}`, member.id)
      }
      textarea.value = text
    },
    clear: () => {
      textarea.value = ''
      chosen.clear()
      close()
    },
  }
}
