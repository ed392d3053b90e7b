// The editor's toolbar: marks, headings, lists, links and tables. Each button says what it does
// (its accessible name) and whether it is on (aria-pressed); the shortcuts are TipTap's.
import type { Editor } from '@tiptap/core'
import { h } from '../dom'
import { t, type Key } from '../i18n'

interface Tool {
  /** Its name; the button shows the translation of ``label + '.short'``. */
  label: Key
  run: (editor: Editor) => boolean
  active?: (editor: Editor) => boolean
  /** Only offered inside a table. */
  inTable?: boolean
}

const chain = (editor: Editor) => editor.chain().focus()

const groups: Tool[][] = [
  [
    { label: 'tool.bold', run: (e) => chain(e).toggleBold().run(), active: (e) => e.isActive('bold') },
    { label: 'tool.italic', run: (e) => chain(e).toggleItalic().run(), active: (e) => e.isActive('italic') },
    { label: 'tool.strike', run: (e) => chain(e).toggleStrike().run(), active: (e) => e.isActive('strike') },
    { label: 'tool.code', run: (e) => chain(e).toggleCode().run(), active: (e) => e.isActive('code') },
    {
      label: 'tool.link',
      run: (e) => {
        if (e.isActive('link')) return chain(e).unsetLink().run()
        const href = window.prompt(t('tool.link_prompt'), 'https://')
        return href ? chain(e).extendMarkRange('link').setLink({ href }).run() : false
      },
      active: (e) => e.isActive('link'),
    },
  ],
  [
    { label: 'tool.paragraph', run: (e) => chain(e).setParagraph().run(), active: (e) => e.isActive('paragraph') },
    { label: 'tool.h1', run: (e) => chain(e).toggleHeading({ level: 1 }).run(), active: (e) => e.isActive('heading', { level: 1 }) },
    { label: 'tool.h2', run: (e) => chain(e).toggleHeading({ level: 2 }).run(), active: (e) => e.isActive('heading', { level: 2 }) },
    { label: 'tool.h3', run: (e) => chain(e).toggleHeading({ level: 3 }).run(), active: (e) => e.isActive('heading', { level: 3 }) },
  ],
  [
    { label: 'tool.bullets', run: (e) => chain(e).toggleBulletList().run(), active: (e) => e.isActive('bulletList') },
    { label: 'tool.numbers', run: (e) => chain(e).toggleOrderedList().run(), active: (e) => e.isActive('orderedList') },
    { label: 'tool.tasks', run: (e) => chain(e).toggleTaskList().run(), active: (e) => e.isActive('taskList') },
    { label: 'tool.quote', run: (e) => chain(e).toggleBlockquote().run(), active: (e) => e.isActive('blockquote') },
  ],
  [
    { label: 'tool.table', run: (e) => chain(e).insertTable({ rows: 3, cols: 3, withHeaderRow: true }).run() },
    { label: 'tool.row_add', run: (e) => chain(e).addRowAfter().run(), inTable: true },
    { label: 'tool.row_remove', run: (e) => chain(e).deleteRow().run(), inTable: true },
    { label: 'tool.col_add', run: (e) => chain(e).addColumnAfter().run(), inTable: true },
    { label: 'tool.col_remove', run: (e) => chain(e).deleteColumn().run(), inTable: true },
    { label: 'tool.table_remove', run: (e) => chain(e).deleteTable().run(), inTable: true },
  ],
  [
    { label: 'tool.undo', run: (e) => chain(e).undo().run() },
    { label: 'tool.redo', run: (e) => chain(e).redo().run() },
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
          title: t(tool.label),
          // Keep the editor's selection: a click on the toolbar must not blur the text.
          onmousedown: (event) => event.preventDefault(),
          onclick: () => void tool.run(editor),
        },
        // The name is the hidden text, not an aria-label: a name must contain what is shown.
        h('span', { 'aria-hidden': 'true' }, t(`${tool.label}.short` as Key)),
        h('span', { class: 'visually-hidden' }, t(tool.label)),
      )
      buttons.push([button, tool])
      box.append(button)
    }
    bar.append(box)
  }
  const update = (): void => {
    const editable = editor.isEditable
    // Readers get no toolbar: it could do nothing for them.
    bar.hidden = !editable
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
