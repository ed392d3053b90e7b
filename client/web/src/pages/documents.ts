// The workspace's documents: open, create from a template (its description shown), rename,
// move to the trash and back. Editors and owners see the controls; the server decides.
import { get, patch, post } from '../api'
import { confirmAction } from '../confirm'
import { field, h, replace, value } from '../dom'
import { describe } from '../errors'
import { currentLanguage, lookup, t, when } from '../i18n'
import { latestOnly } from '../latest'
import { notice, showError } from '../layout'
import { navigate } from '../router'
import type { DocumentInfo, Page, Role, Template } from '../types'

const canEdit = (role: Role | null): boolean => role === 'owner' || role === 'editor'

export function documentsPanel(workspaceId: string, role: Role | null, changed: () => void): { element: HTMLElement; refresh: () => Promise<void> } {
  const status = notice()
  const list = h('ul', { class: 'doc-list', 'aria-label': t('docs.list') })
  const trash = h('ul', { class: 'doc-list', 'aria-label': t('docs.trash') })
  const trashBox = h('details', { class: 'trash' }, h('summary', {}, t('docs.trash')), trash)
  const base = `/api/workspaces/${workspaceId}/documents`

  // While a title is being edited the list is not redrawn (that would drop the form): a
  // refresh asked for meanwhile runs when the editing ends.
  let renaming = false
  let stale = false

  async function act(run: () => Promise<unknown>): Promise<void> {
    try {
      await run()
      renaming = false
      await refresh()
      changed()
    } catch (error) {
      showError(status, describe(error))
    }
  }

  function renameForm(doc: DocumentInfo, row: HTMLElement, restore: () => void): HTMLFormElement {
    const input = h('input', { name: 'title', value: doc.title, required: true, autocomplete: 'off' })
    const form = h(
      'form',
      {
        class: 'inline-form',
        onsubmit: (event) => {
          event.preventDefault()
          void act(() => patch(`/api/documents/${doc.id}`, { title: value(form, 'title') }))
        },
        onkeydown: (event) => {
          if ((event as KeyboardEvent).key === 'Escape') restore()
        },
      },
      field(t('docs.new_title', { title: doc.title }), input),
      h('button', { type: 'submit' }, t('save')),
      h('button', { type: 'button', class: 'quiet', onclick: restore }, t('cancel')),
    )
    queueMicrotask(() => {
      input.focus()
      input.select()
    })
    void row
    return form
  }

  function documentRow(doc: DocumentInfo): HTMLElement {
    const row = h('li', { class: 'doc-row' })
    const draw = (): void => {
      replace(
        row,
        h('a', { class: 'doc-title', href: `/d/${doc.id}` }, doc.title),
        h('span', { class: 'muted' }, t('docs.updated', { when: when(doc.updated_at) })),
        canEdit(role)
          ? h(
              'span',
              { class: 'row-actions' },
              h(
                'button',
                {
                  type: 'button',
                  class: 'quiet',
                  'aria-label': t('docs.rename_named', { title: doc.title }),
                  onclick: () => {
                    renaming = true
                    replace(
                      row,
                      renameForm(doc, row, () => {
                        renaming = false
                        draw()
                        if (stale) void refresh()
                      }),
                    )
                  },
                },
                t('docs.rename'),
              ),
              h(
                'button',
                {
                  type: 'button',
                  class: 'quiet danger',
                  'aria-label': t('docs.trash_named', { title: doc.title }),
                  onclick: async () => {
                    // Restorable from the trash, but it leaves everyone's list at once: ask.
                    if (!(await confirmAction(t('docs.trash_confirm', { title: doc.title }), t('docs.to_trash')))) return
                    await act(() => post(`/api/documents/${doc.id}/trash`))
                  },
                },
                t('docs.to_trash'),
              ),
            )
          : null,
      )
    }
    draw()
    return row
  }

  function trashRow(doc: DocumentInfo): HTMLElement {
    return h(
      'li',
      { class: 'doc-row' },
      h('span', { class: 'doc-title' }, doc.title),
      canEdit(role)
        ? h(
            'button',
            {
              type: 'button',
              class: 'quiet',
              'aria-label': t('docs.restore_named', { title: doc.title }),
              onclick: () => void act(() => post(`/api/documents/${doc.id}/restore`)),
            },
            t('docs.restore'),
          )
        : null,
    )
  }

  const read = latestOnly(
    () => Promise.all([
      get<Page<DocumentInfo>>(`${base}?limit=100`),
      get<Page<DocumentInfo>>(`${base}?limit=100&trashed=true`),
    ]),
    ([live, trashed]) => {
      // Checked after the reads: editing may have begun while they were under way.
      if (renaming) {
        stale = true
        return
      }
      replace(list, ...(live.items.length ? live.items.map(documentRow) : [h('li', { class: 'empty' }, t('docs.none'))]))
      replace(trash, ...(trashed.items.length ? trashed.items.map(trashRow) : [h('li', { class: 'empty' }, t('docs.trash_empty'))]))
    },
  )

  async function refresh(): Promise<void> {
    stale = false
    await read()
  }

  const element = h('section', { class: 'card', 'aria-labelledby': 'docs-heading' }, h('h2', { id: 'docs-heading' }, t('docs.title')))
  if (canEdit(role)) element.append(createForm(base, status))
  element.append(status, list, trashBox)
  return { element, refresh }
}

function createForm(base: string, status: HTMLElement): HTMLElement {
  const choices = h('fieldset', { class: 'templates' }, h('legend', {}, t('docs.template')))
  const form = h(
    'form',
    {
      class: 'stack create-doc',
      onsubmit: async (event) => {
        event.preventDefault()
        const picked = form.querySelector<HTMLInputElement>('input[name=template]:checked')
        try {
          const doc = await post<DocumentInfo>(base, {
            title: value(form, 'title'),
            template: picked?.value ?? 'blank',
          })
          navigate(`/d/${doc.id}`)
        } catch (error) {
          showError(status, describe(error))
        }
      },
    },
    field(t('docs.title_field'), h('input', { name: 'title', required: true, autocomplete: 'off' })),
    choices,
    h('button', { type: 'submit' }, t('docs.create')),
  )
  // The interface's language first; the templates written in the others in a group after.
  const language = currentLanguage()
  get<{ items: Template[] }>(`/api/templates?language=${encodeURIComponent(language)}`).then(
    ({ items }) => {
      const others = h('div', { class: 'stack' })
      items.forEach((template, index) => {
        const own = template.language === language
        ;(own ? choices : others).append(templateChoice(template, index === 0, own))
      })
      if (others.childElementCount > 0) {
        choices.append(h('details', { class: 'other-languages' }, h('summary', {}, t('docs.template_other_languages')), others))
      }
    },
    (error: unknown) => showError(status, describe(error)),
  )
  return h('details', { class: 'create' }, h('summary', {}, t('docs.new')), form)
}

/** One template to choose: its title and description in its own language, which the label
 * names when it is not the interface's. */
function templateChoice(template: Template, checked: boolean, own: boolean): HTMLElement {
  const id = `template-${template.name}`
  const languageName = lookup(`language.${template.language}`) ?? template.language
  return h(
    'div',
    { class: 'choice' },
    h('input', { type: 'radio', name: 'template', id, value: template.name, checked, 'aria-describedby': `${id}-about` }),
    h('label', { for: id }, h('span', { lang: template.language }, template.title), own ? '' : ` (${languageName})`),
    h('p', { id: `${id}-about`, class: 'muted', lang: template.language }, template.description),
  )
}
