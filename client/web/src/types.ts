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
