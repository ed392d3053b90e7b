// The editor's toolbar: marks, headings, lists, links and tables. Each button says what it does
// (its accessible name) and whether it is on (aria-pressed); the shortcuts are TipTap's.
import type { Editor } from '@tiptap/core'
import { h } from '../dom'
import { t, type Key } from '../i18n'

interface Tool {
  label: Key
  text: string
  run: (editor: Editor) => boolean
  active?: (editor: Editor) => boolean
  /** Only offered inside a table. */
  inTable?: boolean
}

const chain = (editor: Editor) => editor.chain().focus()

const groups: Tool[][] = [
  [
    { label: 'tool.bold', text: 'B', run: (e) => chain(e).toggleBold().run(), active: (e) => e.isActive('bold') },
    { label: 'tool.italic', text: 'I', run: (e) => chain(e).toggleItalic().run(), active: (e) => e.isActive('italic') },
    { label: 'tool.strike', text: 'S', run: (e) => chain(e).toggleStrike().run(), active: (e) => e.isActive('strike') },
    { label: 'tool.code', text: '</>', run: (e) => chain(e).toggleCode().run(), active: (e) => e.isActive('code') },
    {
      label: 'tool.link',
      text: '🔗',
      run: (e) => {
        if (e.isActive('link')) return chain(e).unsetLink().run()
        const href = window.prompt(t('tool.link_prompt'), 'https://')
        return href ? chain(e).extendMarkRange('link').setLink({ href }).run() : false
      },
      active: (e) => e.isActive('link'),
    },
  ],
  [
    { label: 'tool.paragraph', text: '¶', run: (e) => chain(e).setParagraph().run(), active: (e) => e.isActive('paragraph') },
    { label: 'tool.h1', text: 'H1', run: (e) => chain(e).toggleHeading({ level: 1 }).run(), active: (e) => e.isActive('heading', { level: 1 }) },
    { label: 'tool.h2', text: 'H2', run: (e) => chain(e).toggleHeading({ level: 2 }).run(), active: (e) => e.isActive('heading', { level: 2 }) },
    { label: 'tool.h3', text: 'H3', run: (e) => chain(e).toggleHeading({ level: 3 }).run(), active: (e) => e.isActive('heading', { level: 3 }) },
  ],
  [
    { label: 'tool.bullets', text: '•', run: (e) => chain(e).toggleBulletList().run(), active: (e) => e.isActive('bulletList') },
    { label: 'tool.numbers', text: '1.', run: (e) => chain(e).toggleOrderedList().run(), active: (e) => e.isActive('orderedList') },
    { label: 'tool.tasks', text: '☑', run: (e) => chain(e).toggleTaskList().run(), active: (e) => e.isActive('taskList') },
    { label: 'tool.quote', text: '❝', run: (e) => chain(e).toggleBlockquote().run(), active: (e) => e.isActive('blockquote') },
  ],
  [
    { label: 'tool.table', text: '⊞', run: (e) => chain(e).insertTable({ rows: 3, cols: 3, withHeaderRow: true }).run() },
    { label: 'tool.row_add', text: '+≡', run: (e) => chain(e).addRowAfter().run(), inTable: true },
    { label: 'tool.row_remove', text: '−≡', run: (e) => chain(e).deleteRow().run(), inTable: true },
    { label: 'tool.col_add', text: '+⦀', run: (e) => chain(e).addColumnAfter().run(), inTable: true },
    { label: 'tool.col_remove', text: '−⦀', run: (e) => chain(e).deleteColumn().run(), inTable: true },
    { label: 'tool.table_remove', text: '✕⊞', run: (e) => chain(e).deleteTable().run(), inTable: true },
  ],
  [
    { label: 'tool.undo', text: '↶', run: (e) => chain(e).undo().run() },
    { label: 'tool.redo', text: '↷', run: (e) => chain(e).redo().run() },
  ],
]

/** The toolbar for ``editor``; it follows the selection and the editor's editability. */
export function toolbar(editor: Editor): HTMLElement {
  const buttons: Array<[HTMLButtonElement, Tool]> = []
  const bar = h('div', { class: 'toolbar', role: 'toolbar', 'aria-label': t('tool.bar') })
  for (const group of groups) {
    const box = h('div', { class: 'tool-group', role: 'group' })
    for (const tool of group) {
      const button = h(
        'button',
        {
          type: 'button',
          class: 'tool',
          'aria-label': t(tool.label),
          title: t(tool.label),
          // Keep the editor's selection: a click on the toolbar must not blur the text.
          onmousedown: (event) => event.preventDefault(),
          onclick: () => void tool.run(editor),
        },
        h('span', { 'aria-hidden': 'true' }, tool.text),
      )
      buttons.push([button, tool])
      box.append(button)
    }
    bar.append(box)
  }
  const update = (): void => {
    const editable = editor.isEditable
    const inTable = editor.isActive('table')
    for (const [button, tool] of buttons) {
      button.disabled = !editable || (tool.inTable === true && !inTable)
      if (tool.active) button.setAttribute('aria-pressed', String(tool.active(editor)))
    }
  }
  editor.on('transaction', update)
  editor.on('update', update)
  editor.on('selectionUpdate', update)
  update()
  return Object.assign(bar, { refresh: update })
}
