// The shapes of the REST API's answers that the app reads (see /openapi.json).

export type Role = 'owner' | 'editor' | 'commenter' | 'viewer'
export const ROLES: readonly Role[] = ['owner', 'editor', 'commenter', 'viewer']

export interface User {
  id: string
  email: string
  name: string
  /** ``#rrggbb``: the colour the server gives this account in presence (caret, avatar). */
  color: string
}

export interface Page<T> {
  items: T[]
  next_cursor: string | null
}

export interface Workspace {
  id: string
  name: string
  description: string
  role: Role | null
}

export interface DocumentInfo {
  id: string
  workspace_id: string
  title: string
  template: string | null
  trashed: boolean
  updated_at: string
}

export interface Member {
  user_id: string
  email: string
  name: string
  role: Role
}

export interface Template {
  name: string
  title: string
  description: string
  /** The language the template is written in: ``en``, ``fr`` or ``es``. */
  language: string
  /** Shared by a template's translations, e.g. ``assap-plan``. */
  kind: string
}

export interface Activity {
  id: string
  verb: string
  actor: { id: string; name: string } | null
  data: Record<string, string | boolean | null>
  created_at: string
}

export interface InvitationPreview {
  workspace_id: string
  workspace_name: string
  role: Role
  email: string | null
  status: 'pending' | 'accepted' | 'expired'
}

export interface Actor {
  id: string
  name: string
}

export interface Version {
  id: string
  document_id: string
  name: string
  kind: 'manual' | 'auto' | 'restore-backup'
  author: Actor | null
  created_at: string
  upto: number
  contributors: Actor[]
}

export interface Block {
  kind: string
  text: string
}

export interface Change {
  change: 'added' | 'removed' | 'changed'
  old_index: number | null
  new_index: number | null
  old: Block | null
  new: Block | null
}

export interface Diff {
  from: string
  to: string
  changes: Change[]
}

export interface EditSession {
  author: Actor | null
  started_at: string
  ended_at: string
  updates: number
}

export interface Comment {
  id: string
  thread_id: string
  author: Actor | null
  /** Mentions are ``<@USER_ID>``; ``mentions`` names them. */
  body: string
  mentions: Actor[]
  created_at: string
  edited_at: string | null
}

export interface Thread {
  id: string
  document_id: string
  /** Two Yjs relative positions in base64, and where the server found them last. */
  anchor: { start: string; end: string; index: number | null; length: number | null }
  quote: string
  detached: boolean
  status: 'open' | 'resolved'
  author: Actor | null
  created_at: string
  resolved_at: string | null
  resolved_by: Actor | null
  /** Oldest first; the first is the thread's body. */
  comments: Comment[]
}

export interface Notification {
  id: string
  kind: 'mention'
  actor: Actor | null
  workspace_id: string
  document_id: string
  document_title: string | null
  thread_id: string
  comment_id: string
  excerpt: string
  read: boolean
  created_at: string
}
