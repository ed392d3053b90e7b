// One thread in the comments panel: its quote (a button that shows the text in the editor),
// its comments with edit and delete for their authors, a reply box, resolve and reopen.
import { del, patch, post } from '../../api'
import { confirmAction } from '../../confirm'
import { h, replace } from '../../dom'
import { describe } from '../../errors'
import { t, when } from '../../i18n'
import type { Actor, Comment, Thread, User } from '../../types'
import { mentionField } from './mentions'

/** What a thread view needs from the panel around it. */
export interface ThreadContext {
  user: User
  canComment(): boolean
  isOwner(): boolean
  members(): Promise<Actor[]>
  /** Selects the thread's text in the editor. */
  show(thread: Thread): void
  /** The thread changed through a call made here: read it again (null: it was deleted). */
  refresh(id: string): Promise<void>
  report(message: string): void
}

const MENTION = /<@([0-9a-f]{32})>/

/** A comment's text with its mentions shown as names. */
export function renderBody(body: string, mentions: readonly Actor[]): Node[] {
  const names = new Map(mentions.map((member) => [member.id, member.name]))
  return body.split(MENTION).map((part, index) => {
    if (index % 2 === 0) return document.createTextNode(part)
    const name = names.get(part)
    return name === undefined ? document.createTextNode(`<@${part}>`) : h('span', { class: 'mention' }, `@${name}`)
  })
}

const short = (quote: string): string => (quote.length > 60 ? `${quote.slice(0, 59)}…` : quote)

export class ThreadView {
  readonly element: HTMLLIElement
  readonly article: HTMLElement
  private readonly quote = h('div', { class: 'thread-quote' })
  private readonly comments = h('ol', { class: 'comment-list' })
  private readonly actions = h('div', { class: 'row-actions' })
  private readonly reply
  private readonly replyForm: HTMLFormElement
  /** Comments being edited: their forms survive a redraw of the thread. */
  private readonly editing = new Map<string, HTMLElement>()
  private detached = false

  constructor(
    private thread: Thread,
    private readonly context: ThreadContext,
  ) {
    this.reply = mentionField(t('comments.reply_label'), context.members)
    this.replyForm = h(
      'form',
      {
        class: 'reply',
        onsubmit: (event) => {
          event.preventDefault()
          void this.send()
        },
      },
      this.reply.element,
      h('button', { type: 'submit' }, t('comments.reply')),
    )
    this.article = h('article', { class: 'thread', tabindex: -1 }, this.quote, this.comments, this.replyForm, this.actions)
    this.element = h('li', { 'data-thread': thread.id }, this.article)
    this.draw()
  }

  get id(): string {
    return this.thread.id
  }

  update(thread: Thread, detached: boolean): void {
    if (thread === this.thread && detached === this.detached) return
    this.thread = thread
    this.detached = detached
    this.draw()
  }

  setActive(active: boolean): void {
    if (active) this.article.setAttribute('aria-current', 'true')
    else this.article.removeAttribute('aria-current')
  }

  private draw(): void {
    const thread = this.thread
    const quote = t('comments.quote', { quote: thread.quote })
    this.article.setAttribute('aria-label', t('comments.thread_on', { quote: short(thread.quote) }))
    replace(
      this.quote,
      this.detached
        ? h('blockquote', { class: 'quote' }, quote)
        : h(
            'button',
            { type: 'button', class: 'quote', onclick: () => this.context.show(this.thread) },
            h('span', { class: 'visually-hidden' }, t('comments.show_text')),
            quote,
          ),
    )
    replace(this.comments, ...thread.comments.map((comment, index) => this.commentItem(comment, index === 0)))
    const comment = this.context.canComment()
    this.replyForm.hidden = !comment || thread.status === 'resolved'
    replace(
      this.actions,
      comment
        ? h(
            'button',
            { type: 'button', class: 'quiet', onclick: () => void this.setStatus(thread.status === 'open' ? 'resolved' : 'open') },
            t(thread.status === 'open' ? 'comments.resolve' : 'comments.reopen'),
          )
        : null,
    )
  }

  private commentItem(comment: Comment, first: boolean): HTMLLIElement {
    const mine = comment.author?.id === this.context.user.id
    const canDelete = this.context.canComment() && (mine || this.context.isOwner())
    const editor = this.editing.get(comment.id)
    return h(
      'li',
      { class: 'comment' },
      h(
        'p',
        { class: 'comment-meta' },
        h('strong', {}, comment.author?.name ?? t('activity.someone')),
        ' ',
        h('time', { datetime: comment.created_at }, when(comment.created_at)),
        comment.edited_at ? ` ${t('comments.edited')}` : null,
      ),
      editor ?? h('p', { class: 'comment-body' }, ...renderBody(comment.body, comment.mentions)),
      editor === undefined && (mine || canDelete)
        ? h(
            'div',
            { class: 'row-actions' },
            mine && this.context.canComment() ? h('button', { type: 'button', class: 'quiet small', onclick: () => this.edit(comment) }, t('comments.edit')) : null,
            canDelete ? h('button', { type: 'button', class: 'quiet small danger', onclick: () => void this.remove(comment, first) }, t('comments.delete')) : null,
          )
        : null,
    )
  }

  private edit(comment: Comment): void {
    const field = mentionField(t('comments.edit_label'), this.context.members)
    field.set(comment.body, comment.mentions)
    const done = (): void => {
      this.editing.delete(comment.id)
      this.draw()
    }
    const form = h(
      'form',
      {
        class: 'edit-comment',
        onsubmit: async (event) => {
          event.preventDefault()
          try {
            await patch(`/api/comments/${comment.id}`, { body: field.body() })
            done()
            await this.context.refresh(this.thread.id)
          } catch (error) {
            this.context.report(describe(error))
          }
        },
      },
      field.element,
      h('div', { class: 'row-actions' }, h('button', { type: 'submit' }, t('save')), h('button', { type: 'button', class: 'quiet', onclick: done }, t('cancel'))),
    )
    this.editing.set(comment.id, form)
    this.draw()
    field.textarea.focus()
  }

  private async remove(comment: Comment, first: boolean): Promise<void> {
    // The first comment is the thread's body: deleting it deletes the thread.
    const question = first ? t('comments.delete_thread_confirm') : t('comments.delete_confirm')
    if (!(await confirmAction(question, t('comments.delete')))) return
    try {
      await del(first ? `/api/threads/${this.thread.id}` : `/api/comments/${comment.id}`)
      await this.context.refresh(this.thread.id)
    } catch (error) {
      this.context.report(describe(error))
    }
  }

  private async send(): Promise<void> {
    try {
      await post(`/api/threads/${this.thread.id}/comments`, { body: this.reply.body() })
      this.reply.clear()
      await this.context.refresh(this.thread.id)
    } catch (error) {
      this.context.report(describe(error))
    }
  }

  private async setStatus(status: 'open' | 'resolved'): Promise<void> {
    try {
      await patch(`/api/threads/${this.thread.id}`, { status })
      await this.context.refresh(this.thread.id)
      this.article.focus()
    } catch (error) {
      this.context.report(describe(error))
    }
  }
}
