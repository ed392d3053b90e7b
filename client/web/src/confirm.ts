// Asking before an action that is hard to undo: a modal <dialog>, so the browser gives it the
// dialog role, keeps focus inside, closes it with Escape and returns focus to the button that
// opened it.
import { h } from './dom'
import { t } from './i18n'

let opened = 0

/**
 * Asks ``question``; resolves true only if the person chose ``action`` (by click or keyboard).
 * Cancel has the focus first, so a hurried Enter does nothing harmful; Escape cancels too.
 */
export function confirmAction(question: string, action: string): Promise<boolean> {
  const id = `confirm-${++opened}`
  return new Promise((resolve) => {
    const cancel = h('button', { type: 'button', class: 'quiet', onclick: () => dialog.close('') }, t('cancel'))
    const dialog = h(
      'dialog',
      { class: 'confirm', 'aria-labelledby': id },
      h('p', { id }, question),
      h(
        'div',
        { class: 'row-actions' },
        cancel,
        h('button', { type: 'button', class: 'danger', onclick: () => dialog.close('confirm') }, action),
      ),
    )
    dialog.addEventListener('close', () => {
      dialog.remove()
      resolve(dialog.returnValue === 'confirm')
    })
    document.body.append(dialog)
    dialog.showModal()
    cancel.focus()
  })
}
