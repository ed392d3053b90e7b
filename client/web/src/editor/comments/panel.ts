// The comments panel beside the editor: the open threads in document order, the detached ones
// (their text was deleted) with their quotes, the resolved ones; commenting on the selection
// (the "Comment" button or Ctrl+Alt+M); and the link between highlights and threads both ways.
import type { Editor } from '@tiptap/core'
import { ApiError, get, post } from '../../api'
import { h, replace } from '../../dom'
import { describe } from '../../errors'
import { t } from '../../i18n'
import { showError, showInfo } from '../../layout'
import type { Actor, Member, Page, Thread, User } from '../../types'
import type { ServerEvent } from '../connection'
import { anchorSelection, type Placement } from './anchors'
import { activate, CommentHighlights, showThreads, type Places } from './highlights'
import { mentionField } from './mentions'
import { ThreadStore } from './store'
import { ThreadView } from './thread-view'

export interface PanelOptions {
  documentId: string
  workspaceId: string
  user: User
  canComment: boolean
  isOwner: boolean
  /** A thread to show once the threads are read (a notification's link). */
  focus: string | null
}

const isMac = /Mac|iPhone|iPad/.test(navigator.platform)

export class CommentsPanel {
  readonly element: HTMLElement
  readonly toggle: HTMLButtonElement
  readonly commentButton: HTMLButtonElement
  private readonly store: ThreadStore
  private readonly views = new Map<string, ThreadView>()
  private readonly status = h('p', { class: 'notice', role: 'status', 'aria-live': 'polite' })
  private readonly openList = h('ul', { class: 'thread-list', 'aria-label': t('comments.open') })
  private readonly detachedList = h('ul', { class: 'thread-list' })
  private readonly resolvedList = h('ul', { class: 'thread-list' })
  private readonly detachedSection: HTMLElement
  private readonly resolvedSection: HTMLElement
  private readonly empty = h('p', { class: 'muted' }, t('comments.none'))
  private readonly compose
  private readonly composeForm: HTMLFormElement
  private readonly composeQuote = h('blockquote', { class: 'quote' })
  private pending: { start: string; end: string } | null = null
  private editor: Editor | null = null
  private places: Places = new Map()
  private active: string | null = null
  private memberList: Promise<Actor[]> | null = null
  private focusWanted: string | null
  private canComment: boolean
  private readonly isOwner: boolean

  constructor(private readonly options: PanelOptions) {
    this.canComment = options.canComment
    this.isOwner = options.isOwner
    this.focusWanted = options.focus
    this.store = new ThreadStore(options.documentId)
    this.store.subscribe(() => this.threadsChanged())
    const shortcut = isMac ? '⌘⌥M' : 'Ctrl+Alt+M'
    this.commentButton = h(
      'button',
      {
        type: 'button',
        class: 'quiet',
        title: t('comments.add_title', { shortcut }),
        'aria-keyshortcuts': isMac ? 'Meta+Alt+M' : 'Control+Alt+M',
        // Keep the editor's selection: a click on the button must not take it away.
        onmousedown: (event) => event.preventDefault(),
        onclick: () => this.start(),
      },
      t('comments.add'),
    )
    this.toggle = h('button', { type: 'button', class: 'quiet', 'aria-expanded': 'false', 'aria-controls': 'comments-panel', onclick: () => {
      this.show(this.element.hidden)
      // On a phone the panel is under the text: bring it into view when it is out of sight.
      if (!this.element.hidden && this.element.getBoundingClientRect().top > window.innerHeight) {
        this.element.scrollIntoView({ block: 'start' })
      }
    } }, t('comments.title'))
    this.compose = mentionField(t('comments.new_label'), () => this.members())
    this.compose.textarea.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') this.cancel()
    })
    this.composeForm = h(
      'form',
      { class: 'compose card', hidden: true, onsubmit: (event) => {
        event.preventDefault()
        void this.create()
      } },
      h('p', { class: 'muted' }, t('comments.on')),
      this.composeQuote,
      this.compose.element,
      h('div', { class: 'row-actions' }, h('button', { type: 'submit' }, t('comments.post')), h('button', { type: 'button', class: 'quiet', onclick: () => this.cancel() }, t('cancel'))),
    )
    this.detachedSection = h('section', { class: 'thread-section', 'aria-labelledby': 'comments-detached', hidden: true }, h('h3', { id: 'comments-detached' }, t('comments.detached')), h('p', { class: 'muted' }, t('comments.detached_about')), this.detachedList)
    this.resolvedSection = h('section', { class: 'thread-section', 'aria-labelledby': 'comments-resolved', hidden: true }, h('h3', { id: 'comments-resolved' }, t('comments.resolved')), this.resolvedList)
    this.element = h(
      'aside',
      { id: 'comments-panel', class: 'side-panel', 'aria-labelledby': 'comments-heading', hidden: true },
      h('h2', { id: 'comments-heading' }, t('comments.title')),
      this.status,
      this.composeForm,
      this.empty,
      this.openList,
      this.detachedSection,
      this.resolvedSection,
    )
    this.element.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && !this.composeForm.contains(event.target as Node)) this.editor?.commands.focus()
    })
    this.access(options.canComment)
    document.addEventListener('keydown', this.onKey)
  }

  /** The TipTap extension that highlights this panel's threads in an editor. */
  extension() {
    return CommentHighlights.configure({ placed: (places) => this.placed(places) })
  }

  /** A (new) editor for the document: threads are placed in it, clicks on highlights land here. */
  attach(editor: Editor): void {
    this.editor = editor
    this.threadsChanged()
  }

  /** Clicks on a highlight in ``surface`` (where the editors are drawn) make its thread the
   * active one; the focus moves there only for readers, whose text takes no caret. */
  watch(surface: HTMLElement): void {
    surface.addEventListener('click', (event) => {
      const mark = (event.target as Element | null)?.closest('mark[data-thread]')
      const id = mark?.getAttribute('data-thread')
      const editor = this.editor
      if (!id || editor === null || !editor.state.selection.empty) return
      this.focusThread(id, !editor.isEditable)
    })
  }

  /** Reads the threads (again). */
  async load(): Promise<void> {
    try {
      await this.store.load()
    } catch (error) {
      showError(this.status, describe(error))
    }
  }

  event(event: ServerEvent): boolean {
    return this.store.event(event)
  }

  access(canComment: boolean): void {
    this.canComment = canComment
    this.commentButton.hidden = !canComment
    if (!canComment) this.cancel()
    // A copy makes each view draw again, with or without its comment controls.
    for (const view of this.views.values()) {
      const thread = this.store.get(view.id)
      if (thread) view.update({ ...thread }, this.isDetached(view.id))
    }
  }

  destroy(): void {
    document.removeEventListener('keydown', this.onKey)
  }

  private readonly onKey = (event: KeyboardEvent): void => {
    if ((event.ctrlKey || event.metaKey) && event.altKey && event.code === 'KeyM') {
      event.preventDefault()
      this.start()
    }
  }

  private show(open: boolean): void {
    this.element.hidden = !open
    this.toggle.setAttribute('aria-expanded', String(open))
  }

  private members(): Promise<Actor[]> {
    this.memberList ??= get<Page<Member>>(`/api/workspaces/${this.options.workspaceId}/members?limit=100`).then(
      (page) => page.items.map((member) => ({ id: member.user_id, name: member.name })),
      (error: unknown) => {
        this.memberList = null
        throw error
      },
    )
    return this.memberList
  }

  /** Starts a thread on the editor's selection. */
  private start(): void {
    if (!this.canComment || this.editor === null) return
    this.show(true)
    const anchor = anchorSelection(this.editor.state)
    if (typeof anchor === 'string') {
      showError(this.status, t(anchor === 'empty' ? 'comments.select_first' : 'comments.one_paragraph'))
      return
    }
    replace(this.status)
    this.pending = { start: anchor.start, end: anchor.end }
    replace(this.composeQuote, t('comments.quote', { quote: anchor.quote }))
    this.composeForm.hidden = false
    this.compose.textarea.focus()
  }

  private cancel(): void {
    const composing = this.pending !== null
    this.pending = null
    this.compose.clear()
    this.composeForm.hidden = true
    if (composing) this.editor?.commands.focus()
  }

  private async create(): Promise<void> {
    if (this.pending === null) return
    try {
      const thread = await post<Thread>(`/api/documents/${encodeURIComponent(this.options.documentId)}/threads`, {
        anchor: this.pending,
        body: this.compose.body(),
      })
      this.pending = null
      this.compose.clear()
      this.composeForm.hidden = true
      this.store.put(thread)
      showInfo(this.status, t('comments.posted'))
      this.focusThread(thread.id, true)
    } catch (error) {
      showError(this.status, describe(error))
    }
  }

  private async refresh(id: string): Promise<void> {
    try {
      this.store.put(await get<Thread>(`/api/threads/${id}`))
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) this.store.remove(id)
      else throw error
    }
  }

  /** Makes a thread the active one; ``focus`` moves the keyboard focus to it. */
  focusThread(id: string, focus: boolean): void {
    const view = this.views.get(id)
    if (view === undefined) return
    this.show(true)
    this.active = id
    for (const other of this.views.values()) other.setActive(other === view)
    if (this.editor) activate(this.editor, id)
    view.article.scrollIntoView({ block: 'nearest' })
    if (focus) view.article.focus({ preventScroll: true })
  }

  /** Selects a thread's text; ``focus`` moves the keyboard focus there (writers only: a
   * reader's text takes no focus). */
  private showText(thread: Thread, focus: boolean): void {
    const editor = this.editor
    const place = this.places.get(thread.id)
    this.focusThread(thread.id, false)
    if (editor === null || place === undefined || typeof place !== 'object') return
    if (editor.isEditable && focus) editor.chain().focus().setTextSelection(place).scrollIntoView().run()
    else {
      editor.commands.setTextSelection(place)
      const { node } = editor.view.domAtPos(place.from)
      ;(node instanceof Element ? node : node.parentElement)?.scrollIntoView({ block: 'center' })
    }
  }

  private isDetached(id: string): boolean {
    const place: Placement | undefined = this.places.get(id)
    return place === 'detached' || ((place === undefined || place === 'unknown') && this.store.get(id)?.detached === true)
  }

  private threadsChanged(): void {
    const threads = this.store.all()
    if (this.editor) showThreads(this.editor, threads.map((thread) => ({ id: thread.id, start: thread.anchor.start, end: thread.anchor.end, open: thread.status === 'open' })))
    this.layout()
  }

  private placed(places: Places): void {
    this.places = places
    this.layout()
  }

  /** Puts every thread in its section, in document order; only moves what changed place. */
  private layout(): void {
    const context = {
      user: this.options.user,
      canComment: () => this.canComment,
      isOwner: () => this.isOwner,
      members: () => this.members(),
      show: (thread: Thread) => this.showText(thread, true),
      refresh: (id: string) => this.refresh(id),
      report: (message: string) => showError(this.status, message),
    }
    const open: Array<[number, Thread]> = []
    const detached: Thread[] = []
    const resolved: Thread[] = []
    const seen = new Set<string>()
    for (const thread of this.store.all()) {
      seen.add(thread.id)
      let view = this.views.get(thread.id)
      if (view === undefined) {
        view = new ThreadView(thread, context)
        this.views.set(thread.id, view)
      }
      const gone = this.isDetached(thread.id)
      view.update(thread, gone)
      const place = this.places.get(thread.id)
      if (thread.status === 'resolved') resolved.push(thread)
      else if (gone) detached.push(thread)
      else open.push([typeof place === 'object' ? place.from : Number.MAX_SAFE_INTEGER, thread])
    }
    for (const [id, view] of this.views) {
      if (!seen.has(id)) {
        view.element.remove()
        this.views.delete(id)
      }
    }
    open.sort((a, b) => a[0] - b[0] || a[1].created_at.localeCompare(b[1].created_at))
    this.arrange(this.openList, open.map(([, thread]) => thread.id))
    this.arrange(this.detachedList, detached.map((thread) => thread.id))
    this.arrange(this.resolvedList, resolved.map((thread) => thread.id))
    this.empty.hidden = seen.size > 0
    this.detachedSection.hidden = detached.length === 0
    this.resolvedSection.hidden = resolved.length === 0
    // A notification's thread: shown once its text is placed (or known to be gone).
    const wanted = this.focusWanted === null ? undefined : this.store.get(this.focusWanted)
    if (wanted && this.editor !== null && (typeof this.places.get(wanted.id) === 'object' || this.isDetached(wanted.id))) {
      this.focusWanted = null
      this.showText(wanted, false)
      // After the editor's own update (this may run inside it), which may take the focus.
      setTimeout(() => this.focusThread(wanted.id, true), 0)
    }
  }

  private arrange(list: HTMLElement, ids: string[]): void {
    const now = [...list.children].map((child) => (child as HTMLElement).dataset.thread)
    if (now.length === ids.length && now.every((id, index) => id === ids[index])) return
    for (const id of ids) {
      const view = this.views.get(id)
      if (view) list.append(view.element)
    }
  }
}
