// Comment anchors in the browser: a selection becomes two Yjs relative positions (what the
// server stores, see README "Threads"), and relative positions become editor positions again.
// Both ends live in one XmlText (one run of text in one paragraph), as the server requires.
import type { EditorState } from '@tiptap/pm/state'
import { absolutePositionToRelativePosition, relativePositionToAbsolutePosition, ySyncPluginKey } from '@tiptap/y-tiptap'
import { fromBase64, toBase64 } from 'lib0/buffer'
import * as Y from 'yjs'

export interface NewAnchor {
  start: string
  end: string
  quote: string
}

/** Why a selection cannot be commented: nothing selected, or more than one run of text. */
export type AnchorProblem = 'empty' | 'blocks'

/** Where a thread's text is in the editor now; ``detached`` once all of it is deleted, and
 * ``unknown`` while this copy does not hold the anchored text yet (still syncing). */
export type Placement = { from: number; to: number } | 'detached' | 'unknown'

function sync(state: EditorState) {
  const found = ySyncPluginKey.getState(state)
  return found ? { doc: found.doc, fragment: found.type, mapping: found.binding.mapping } : null
}

/** The text of an XmlText as Yjs counts it (UTF-16 code units, an embed counts one). */
function plain(text: Y.XmlText): string {
  return (text.toDelta() as Array<{ insert: unknown }>)
    .map((part) => (typeof part.insert === 'string' ? part.insert : '\uFFFC'))
    .join('')
}

/** The anchor of the selection: the start sticks to its first character, the end to its last. */
export function anchorSelection(state: EditorState): NewAnchor | AnchorProblem {
  const { from, to, $from, $to } = state.selection
  if (from === to) return 'empty'
  if ($from.parent !== $to.parent || !$from.parent.isTextblock) return 'blocks'
  const quote = state.doc.textBetween(from, to)
  const binding = sync(state)
  // An inline node (a line break) in the range splits the text into two XmlTexts.
  if (quote.length !== to - from || binding === null) return 'blocks'
  const at = Y.createAbsolutePositionFromRelativePosition(
    absolutePositionToRelativePosition(from, binding.fragment, binding.mapping),
    binding.doc,
  )
  if (at === null || !(at.type instanceof Y.XmlText)) return 'blocks'
  if (plain(at.type).slice(at.index, at.index + quote.length) !== quote) return 'blocks'
  const encode = (index: number, assoc: number): string =>
    toBase64(Y.encodeRelativePosition(Y.createRelativePositionFromTypeIndex(at.type, index, assoc)))
  return { start: encode(at.index, 0), end: encode(at.index + quote.length, -1), quote }
}

/** Where the anchor ``start``..``end`` (base64 relative positions) is in ``state`` now. */
export function place(state: EditorState, start: string, end: string): Placement {
  const binding = sync(state)
  if (binding === null) return 'unknown'
  try {
    const first = Y.decodeRelativePosition(fromBase64(start))
    const last = Y.decodeRelativePosition(fromBase64(end))
    const a = Y.createAbsolutePositionFromRelativePosition(first, binding.doc)
    const b = Y.createAbsolutePositionFromRelativePosition(last, binding.doc)
    // As the server decides: the ends must be in one live type, in order.
    if (a === null || b === null || a.type !== b.type || b.index <= a.index) return 'detached'
    const from = relativePositionToAbsolutePosition(binding.doc, binding.fragment, first, binding.mapping)
    const to = relativePositionToAbsolutePosition(binding.doc, binding.fragment, last, binding.mapping)
    return from === null || to === null || to <= from ? 'unknown' : { from, to }
  } catch {
    // Yjs throws on an id it has not seen: this copy has not received that text yet.
    return 'unknown'
  }
}
