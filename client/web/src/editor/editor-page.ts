// "/d/{id}": the editor. TipTap on the document's live copy, with the toolbar, who is here, the
// saved state, a read-only badge for those who may not write, and the exports.
// The Versions panel lives in versions-panel.ts; this page places it and passes it events.
import { Editor } from '@tiptap/core'
import Collaboration from '@tiptap/extension-collaboration'
import CollaborationCaret from '@tiptap/extension-collaboration-caret'
import { TaskItem, TaskList } from '@tiptap/extension-list'
import { TableKit } from '@tiptap/extension-table'
import StarterKit from '@tiptap/starter-kit'
import { ApiError, get } from '../api'
import { append, h, replace } from '../dom'
import { describe } from '../errors'
import { t, type Key } from '../i18n'
import { notice, shell, showError, title } from '../layout'
import { remember, remembered } from '../local-data'
import { notificationBell } from '../notifications'
import { navigate } from '../router'
import { me } from '../session'
import type { DocumentInfo, Role, User, Workspace } from '../types'
import { CommentsPanel } from './comments/panel'
import { DocumentConnection, type SaveState, type ServerEvent } from './connection'
import { caret, presence } from './presence'
import { toolbar } from './toolbar'
import { versionsPanel } from './versions-panel'

const STATE_TEXT: Record<SaveState, Key> = {
  connecting: 'saved.connecting',
  offline: 'saved.offline',
  saving: 'saved.saving',
  saved: 'saved.saved',
}

const GUEST_COLOR = '#5b6b7f'

const writes = (role: Role | null): boolean => role === 'owner' || role === 'editor'
const comments = (role: Role | null): boolean => writes(role) || role === 'commenter'

interface Known {
  user: User | null
  info: DocumentInfo | null
  role: Role | null
}

/**
 * Who reads the document and what it is: from the server, or, when the server cannot be
 * reached, as this browser last knew it (so a document opened before opens offline too).
 */
async function whatWeKnow(id: string): Promise<Known | 'missing'> {
  try {
    const known = await askTheServer(id)
    if (known !== 'missing' && known.user) remember(`known:${id}`, known)
    return known
  } catch (error) {
    const kept = error instanceof ApiError && error.code === 'network' ? remembered<Known>(`known:${id}`) : null
    if (kept === null) throw error
    return kept
  }
}

async function askTheServer(id: string): Promise<Known | 'missing'> {
  const user = await me()
  if (!user) return { user, info: null, role: null }
  try {
    const info = await get<DocumentInfo>(`/api/documents/${encodeURIComponent(id)}`)
    const workspace = await get<Workspace>(`/api/workspaces/${info.workspace_id}`)
    return { user, info, role: workspace.role }
  } catch (error) {
    // In --anonymous mode any id is a document, whether the API knows it or not.
    if (error instanceof ApiError && error.status === 404) return { user, info: null, role: null }
    throw error
  }
}

export async function editorPage([id = '']: string[]): Promise<() => void> {
  let known: Known | 'missing'
  try {
    known = await whatWeKnow(id)
  } catch (error) {
    const main = shell(await me().catch(() => null))
    const status = notice()
    main.append(title(t('editor.unavailable')), status)
    showError(status, describe(error))
    return () => undefined
  }
  const { user, info, role } = known as Known
  const savedState = h('span', { class: 'saved-state', role: 'status', 'aria-live': 'polite' })
  const keptState = h('span', { class: 'kept-state', role: 'status', hidden: true }, t('saved.kept'))
  const people = h('ul', { class: 'avatars', 'aria-label': t('editor.here') })
  const bell = user ? notificationBell(user) : null
  const main = shell(user, savedState, keptState, ...(bell ? [bell.element] : []))
  main.classList.add('wide')

  const badge = h('span', { class: 'badge readonly', hidden: true }, t('editor.read_only'))
  const exports = info
    ? h(
        'div',
        { class: 'exports' },
        h('a', { class: 'button quiet', href: `/api/documents/${id}/export?format=markdown`, download: `${info.title}.md` }, t('editor.export_markdown')),
        h('a', { class: 'button quiet', href: `/api/documents/${id}/export?format=html`, download: `${info.title}.html` }, t('editor.export_html')),
      )
    : null
  // Comments need an account and a document the API knows (not --anonymous rooms).
  const panel = user && info
    ? new CommentsPanel({
        documentId: id,
        workspaceId: info.workspace_id,
        user,
        canComment: comments(role),
        isOwner: role === 'owner',
        focus: new URLSearchParams(location.search).get('thread'),
      })
    : null
  const status = notice()
  // Anonymous documents (no info) have no versions to list.
  const versions = info ? versionsPanel(id, () => canWrite) : null
  const surface = h('div', { class: 'editor-surface' })
  panel?.watch(surface)
  const barSlot = h('div', { class: 'toolbar-slot' })
  append(main,
    info ? h('p', { class: 'crumbs' }, h('a', { href: `/w/${info.workspace_id}` }, t('editor.back'))) : null,
    h('div', { class: 'page-head' }, title(info?.title ?? id), badge, people, exports, versions?.toggle, panel ? h('div', { class: 'panel-toggles' }, panel.commentButton, panel.toggle) : null),
    status,
    versions?.element,
    h('div', { class: 'editor-layout' }, h('div', { class: 'editor-column' }, barSlot, surface), panel?.element),
  )

  // Anonymous mode has no roles: every connection edits. Signed in, the REST role decides
  // until the server's access event says otherwise.
  let canWrite = info === null ? true : writes(role)
  let editor: Editor | null = null
  let connection: DocumentConnection | null = null
  let stopped = false

  const applyAccess = (): void => {
    badge.hidden = canWrite
    editor?.setEditable(canWrite)
  }

  const start = (): void => {
    const live = new DocumentConnection(id, user?.id ?? null, {
      state: (state) => replace(savedState, t(STATE_TEXT[state])),
      kept: (kept) => {
        keptState.hidden = !kept
      },
      event: (event: ServerEvent) => {
        versions?.event(event)
        if (panel?.event(event)) return
        if (event.type === 'notification') bell?.event(event)
        if (event.type === 'access' && typeof event.can_comment === 'boolean') {
          panel?.access(event.can_comment)
          // Sent each time the socket is taken in: what changed while it was away is read again.
          void panel?.load()
        }
        if (event.type === 'access' && typeof event.can_write === 'boolean') {
          canWrite = event.can_write
          applyAccess()
        } else if (event.type === 'activity' && user) {
          // A server that sends no access events still tells members when a role changed.
          const activity = event.activity as { verb?: string; object?: { id?: string }; data?: { role?: string } }
          if (activity.verb === 'member.role_changed' && activity.object?.id === user.id) {
            canWrite = writes((activity.data?.role ?? null) as Role | null)
            applyAccess()
          }
        }
      },
      closed: (code, reason) => {
        if (code === 4409) {
          // The server refused edits made here and now lets us write: this copy holds changes
          // nobody else can have, so drop it and start again from the server's.
          void restart()
          return
        }
        if (code === 4401) {
          navigate(`/login?next=${encodeURIComponent(location.pathname)}`, true)
          return
        }
        canWrite = false
        applyAccess()
        showError(status, reason || t('editor.closed', { code }))
      },
    })
    connection = live
    // Signed in, the server sets this same user field for everyone else: using its colour
    // here makes you look the same to yourself as to them. A guest's is as claimed.
    const me = user ? { id: user.id, name: user.name, color: user.color } : { name: t('editor.guest'), color: GUEST_COLOR }
    editor = new Editor({
      element: surface,
      editable: canWrite,
      injectCSS: false,
      extensions: [
        // The document renders exactly as stored: no trailing-node fix-up that would write.
        StarterKit.configure({ undoRedo: false, trailingNode: false, link: { openOnClick: false } }),
        TableKit.configure({ table: { resizable: false } }),
        TaskList,
        TaskItem.configure({ nested: true }),
        Collaboration.configure({ document: live.doc, field: 'default' }),
        CollaborationCaret.configure({ provider: live.provider, user: me, render: caret }),
        ...(panel ? [panel.extension()] : []),
      ],
      editorProps: {
        // A function: ProseMirror asks again after setEditable, so aria-readonly follows.
        attributes: () => ({
          'aria-label': t('editor.content', { title: info?.title ?? id }),
          'aria-multiline': 'true',
          'aria-readonly': String(!canWrite),
          role: 'textbox',
        }),
      },
    })
    replace(barSlot, toolbar(editor))
    panel?.attach(editor)
    presence(live.provider.awareness, people)
    applyAccess()
  }

  const restart = async (): Promise<void> => {
    const old = connection
    editor?.destroy()
    editor = null
    connection = null
    if (old) await old.discard()
    if (!stopped) start()
  }

  start()
  void panel?.load()
  return () => {
    stopped = true
    panel?.destroy()
    bell?.destroy()
    editor?.destroy()
    connection?.destroy()
  }
}
