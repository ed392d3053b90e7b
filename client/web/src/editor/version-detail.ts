// One past version, shown beside the live document: its content read-only, or the blocks that
// changed between it and the current text. Both come from the server (the version rendered as
// HTML, and the block diff), so they show what is committed, not this browser's copy.
import { ApiError, get } from '../api'
import { h } from '../dom'
import { count, t, when, type Key } from '../i18n'
import type { Block, Change, Diff, Version } from '../types'
import { versionName } from './version-names'

const versionPath = (version: Version): string =>
  `/api/documents/${encodeURIComponent(version.document_id)}/versions/${version.id}`

/** The version's content as the server renders it (HTML with every text escaped). */
async function renderedContent(version: Version): Promise<DocumentFragment> {
  let response: Response
  try {
    response = await fetch(`${versionPath(version)}?format=html`, {
      credentials: 'same-origin',
      headers: { Accept: 'text/html' },
    })
  } catch {
    throw new ApiError(0, 'network', '')
  }
  if (!response.ok) throw new ApiError(response.status, 'error', response.statusText)
  // Parsed into an inert document: nothing in it runs, and only its nodes are moved over.
  const parsed = new DOMParser().parseFromString(await response.text(), 'text/html')
  const fragment = document.createDocumentFragment()
  fragment.append(...Array.from(parsed.body.childNodes))
  return fragment
}

function frame(version: Version, headingKey: Key, onClose: () => void, ...body: Array<Node | null>): HTMLElement {
  const id = `version-detail-${version.id}`
  const close = h('button', { type: 'button', class: 'quiet', onclick: onClose }, t('versions.close'))
  const section = h(
    'section',
    { class: 'version-detail', 'aria-labelledby': id },
    h('div', { class: 'detail-head' }, h('h3', { id, tabindex: -1 }, t(headingKey, { name: versionName(version) })), close),
    ...body,
  )
  queueMicrotask(() => (section.querySelector('h3') as HTMLElement).focus())
  return section
}

/** The version's content, read-only and marked as the past. */
export async function viewVersion(version: Version, onClose: () => void): Promise<HTMLElement> {
  // Focusable: it scrolls, and a keyboard must be able to scroll it.
  const content = h('div', { class: 'past-content', role: 'document', tabindex: 0, 'aria-label': t('versions.past_content') })
  content.append(await renderedContent(version))
  return frame(
    version,
    'versions.view_heading',
    onClose,
    h('p', { class: 'past-banner' }, t('versions.past_banner', { when: when(version.created_at) })),
    content,
  )
}

const MARKS: Record<Change['change'], Key> = {
  added: 'versions.diff_added',
  removed: 'versions.diff_removed',
  changed: 'versions.diff_changed',
}

function blockText(block: Block | null, tag: 'ins' | 'del'): HTMLElement {
  const text = block?.text ?? ''
  return h(tag, { class: text ? '' : 'empty-block' }, text || t('versions.diff_empty_block'))
}

function changeItem(change: Change): HTMLElement {
  // The kind is said in words and with a sign, not by colour alone.
  const mark = h('span', { class: 'diff-mark' }, t(MARKS[change.change]))
  if (change.change === 'added') return h('li', { class: 'diff-added' }, mark, blockText(change.new, 'ins'))
  if (change.change === 'removed') return h('li', { class: 'diff-removed' }, mark, blockText(change.old, 'del'))
  return h(
    'li',
    { class: 'diff-changed' },
    mark,
    h('span', { class: 'diff-was' }, t('versions.diff_was'), ' ', blockText(change.old, 'del')),
    h('span', { class: 'diff-now' }, t('versions.diff_now'), ' ', blockText(change.new, 'ins')),
  )
}

/** What changed from ``version`` to the current text, block by block. */
export async function diffVersion(version: Version, onClose: () => void): Promise<HTMLElement> {
  const diff = await get<Diff>(`${versionPath(version)}/diff?against=current`)
  const tally = (kind: Change['change']): number => diff.changes.filter((c) => c.change === kind).length
  const summary = diff.changes.length
    ? t('versions.diff_summary', {
        added: count(tally('added')),
        removed: count(tally('removed')),
        changed: count(tally('changed')),
      })
    : t('versions.diff_none')
  return frame(
    version,
    'versions.diff_heading',
    onClose,
    h('p', { class: 'muted' }, summary),
    diff.changes.length ? h('ol', { class: 'diff', 'aria-label': t('versions.diff_list') }, ...diff.changes.map(changeItem)) : null,
  )
}
