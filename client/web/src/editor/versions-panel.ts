// The editor's "Versions" panel: the document's versions (named ones and automatic
// checkpoints) with who saved them and who contributed, saving a named version, viewing one
// read-only, comparing it with the current text, restoring it (after a confirmation), and the
// edit history (who edited when). It follows the server's version events, so a version saved
// or restored elsewhere appears without a reload; a restore reaches the editor itself live
// through the document's socket, like any other change.
import { get, post } from '../api'
import { confirmAction } from '../confirm'
import { field, h, replace, value } from '../dom'
import { describe } from '../errors'
import { ago, count, currentLanguage, t, when, type Key } from '../i18n'
import { notice, showError, showInfo } from '../layout'
import type { EditSession, Page, Version } from '../types'
import type { ServerEvent } from './connection'
import { diffVersion, viewVersion } from './version-detail'
import { versionName } from './version-names'

const KIND: Record<Version['kind'], Key> = {
  manual: 'versions.kind_manual',
  auto: 'versions.kind_auto',
  'restore-backup': 'versions.kind_backup',
}

export interface VersionsPanel {
  /** The button that shows and hides the panel ("Versions"). */
  toggle: HTMLButtonElement
  element: HTMLElement
  /** A server event from the document's socket: version events refresh the lists. */
  event(event: ServerEvent): void
}

function time(iso: string): HTMLElement {
  return h('time', { datetime: iso, title: when(iso) }, ago(iso))
}

function names(people: Array<{ name: string }>): string {
  return new Intl.ListFormat(currentLanguage(), { type: 'conjunction' }).format(people.map((p) => p.name))
}

/** ``canWrite``: whether this person may save and restore now (it follows role changes). */
export function versionsPanel(documentId: string, canWrite: () => boolean): VersionsPanel {
  const base = `/api/documents/${encodeURIComponent(documentId)}`
  const status = notice()
  const list = h('ol', { class: 'version-list', 'aria-labelledby': 'versions-list-heading' })
  const history = h('ol', { class: 'history', 'aria-labelledby': 'history-heading' })
  const detail = h('div', { class: 'version-detail-slot' })
  const nameInput = h('input', { name: 'name', required: true, maxlength: 200, autocomplete: 'off' })
  const form = h(
    'form',
    {
      class: 'inline-form save-version',
      onsubmit: (event: Event) => {
        event.preventDefault()
        void save()
      },
    },
    field(t('versions.name_field'), nameInput),
    h('button', { type: 'submit' }, t('versions.save')),
  )
  const element = h(
    'section',
    { class: 'card versions-panel', id: 'versions-panel', 'aria-labelledby': 'versions-heading', hidden: true },
    h('h2', { id: 'versions-heading' }, t('versions.title')),
    form,
    status,
    h('h3', { id: 'versions-list-heading' }, t('versions.list')),
    list,
    detail,
    h('h3', { id: 'history-heading' }, t('history.title')),
    history,
  )
  const toggle = h(
    'button',
    {
      type: 'button',
      class: 'quiet',
      'aria-expanded': 'false',
      'aria-controls': 'versions-panel',
      onclick: () => setOpen(element.hidden),
    },
    t('versions.toggle'),
  )

  let stale = true

  function setOpen(open: boolean): void {
    element.hidden = !open
    toggle.setAttribute('aria-expanded', String(open))
    // The history grows with every edit: opening the panel always reads it again.
    if (open) void refresh()
  }

  function show(load: Promise<HTMLElement>): void {
    load.then(
      (section) => replace(detail, section),
      (error: unknown) => showError(status, describe(error)),
    )
  }

  const closeDetail = (): void => replace(detail)

  function item(version: Version): HTMLElement {
    const name = versionName(version)
    const writer = canWrite()
    const saved = version.author
      ? h('p', { class: 'muted' }, t('versions.saved_by', { name: version.author.name }), ' · ', time(version.created_at))
      : h('p', { class: 'muted' }, t('versions.saved_automatically'), ' · ', time(version.created_at))
    return h(
      'li',
      { class: 'version' },
      h('div', { class: 'version-title' }, h('strong', {}, name), h('span', { class: 'pill' }, t(KIND[version.kind]))),
      saved,
      version.contributors.length
        ? h('p', { class: 'muted' }, t('versions.contributors', { names: names(version.contributors) }))
        : null,
      h(
        'div',
        { class: 'row-actions' },
        h('button', { type: 'button', class: 'quiet', 'aria-label': t('versions.view_named', { name }), onclick: () => show(viewVersion(version, closeDetail)) }, t('versions.view')),
        h('button', { type: 'button', class: 'quiet', 'aria-label': t('versions.compare_named', { name }), onclick: () => show(diffVersion(version, closeDetail)) }, t('versions.compare')),
        writer
          ? h('button', { type: 'button', class: 'quiet danger', 'aria-label': t('versions.restore_named', { name }), onclick: () => void restore(version) }, t('versions.restore'))
          : null,
      ),
    )
  }

  function session(entry: EditSession): HTMLElement {
    // No author: a change the server made itself (e.g. a template's text at creation).
    const who = entry.author?.name ?? t('history.someone')
    return h(
      'li',
      {},
      h('span', {}, t('history.entry', { name: who, count: count(entry.updates) })),
      ' · ',
      time(entry.ended_at),
    )
  }

  async function refresh(): Promise<void> {
    stale = false
    try {
      const [versions, sessions] = await Promise.all([
        get<Page<Version>>(`${base}/versions?limit=50`),
        get<Page<EditSession>>(`${base}/history?limit=50`),
      ])
      form.hidden = !canWrite()
      replace(list, ...(versions.items.length ? versions.items.map(item) : [h('li', { class: 'empty' }, t('versions.none'))]))
      replace(history, ...(sessions.items.length ? sessions.items.map(session) : [h('li', { class: 'empty' }, t('history.none'))]))
    } catch (error) {
      stale = true
      showError(status, describe(error))
    }
  }

  async function save(): Promise<void> {
    const name = value(form, 'name').trim()
    if (!name) return
    try {
      await post<Version>(`${base}/versions`, { name })
      form.reset()
      showInfo(status, t('versions.saved', { name }))
      await refresh()
    } catch (error) {
      showError(status, describe(error))
    }
  }

  async function restore(version: Version): Promise<void> {
    const name = versionName(version)
    if (!(await confirmAction(t('versions.restore_confirm', { name }), t('versions.restore')))) return
    try {
      const backup = await post<Version>(`${base}/versions/${version.id}/restore`)
      closeDetail()
      showInfo(status, t('versions.restored', { name, backup: versionName(backup) }))
      await refresh()
    } catch (error) {
      showError(status, describe(error))
    }
  }

  return {
    toggle,
    element,
    event(event: ServerEvent): void {
      // A role change (access) changes what the panel offers: saving and restoring.
      if (event.type !== 'version.saved' && event.type !== 'version.restored' && event.type !== 'access') return
      if (element.hidden) stale = true
      else void refresh()
    },
  }
}
