// The anchored ranges of the open threads, highlighted in the editor as <mark>s. Positions are
// computed from the threads' relative positions whenever the threads or the text change, so a
// highlight follows its text through everyone's edits, and a thread whose text is deleted is
// reported as detached.
import { Extension, type Editor } from '@tiptap/core'
import { Plugin, PluginKey, type EditorState } from '@tiptap/pm/state'
import { Decoration, DecorationSet } from '@tiptap/pm/view'
import { ySyncPluginKey } from '@tiptap/y-tiptap'
import { place, type Placement } from './anchors'

export interface Anchored {
  id: string
  start: string
  end: string
  /** Open threads are highlighted; resolved ones are only placed. */
  open: boolean
}

export type Places = ReadonlyMap<string, Placement>

interface State {
  threads: readonly Anchored[]
  active: string | null
  places: Places
  decorations: DecorationSet
}

type Meta = { threads?: readonly Anchored[]; active?: string | null }

const key = new PluginKey<State>('gess-comments')

function compute(state: EditorState, threads: readonly Anchored[], active: string | null): Pick<State, 'places' | 'decorations'> {
  const places = new Map<string, Placement>()
  const marks: Decoration[] = []
  for (const thread of threads) {
    const placed = place(state, thread.start, thread.end)
    places.set(thread.id, placed)
    if (!thread.open || typeof placed !== 'object') continue
    marks.push(
      Decoration.inline(placed.from, placed.to, {
        nodeName: 'mark',
        class: thread.id === active ? 'comment-mark active' : 'comment-mark',
        'data-thread': thread.id,
      }),
    )
  }
  return { places, decorations: DecorationSet.create(state.doc, marks) }
}

export interface HighlightOptions {
  /** The placements changed (after the text or the threads changed). */
  placed: (places: Places) => void
}

export const CommentHighlights = Extension.create<HighlightOptions>({
  name: 'commentHighlights',
  addOptions: () => ({ placed: () => undefined }),
  addProseMirrorPlugins() {
    const placed = this.options.placed
    return [
      new Plugin<State>({
        key,
        state: {
          init: () => ({ threads: [], active: null, places: new Map(), decorations: DecorationSet.empty }),
          apply: (tr, value, _old, state) => {
            const meta = tr.getMeta(key) as Meta | undefined
            // A change that came from Yjs has the binding's mapping up to date: compute now.
            const fromYjs = (tr.getMeta(ySyncPluginKey) as { isChangeOrigin?: boolean } | undefined)?.isChangeOrigin === true
            if (meta !== undefined || fromYjs) {
              const threads = meta?.threads ?? value.threads
              const active = meta?.active !== undefined ? meta.active : value.active
              return { threads, active, ...compute(state, threads, active) }
            }
            // A local edit reaches Yjs only after this: follow it by mapping, then recompute.
            return tr.docChanged ? { ...value, decorations: value.decorations.map(tr.mapping, tr.doc) } : value
          },
        },
        props: { decorations: (state) => key.getState(state)?.decorations },
        view: () => ({
          update: (view, previous) => {
            const now = key.getState(view.state)
            if (now && now.places !== key.getState(previous)?.places) placed(now.places)
            const fromYjs = ySyncPluginKey.getState(view.state)?.isChangeOrigin === true
            // (Only with threads to place: each dispatch also makes the sync plugin compare.)
            if (view.state.doc !== previous.doc && !fromYjs && now && now.threads.length > 0) {
              queueMicrotask(() => {
                if (!view.isDestroyed) view.dispatch(view.state.tr.setMeta(key, {}))
              })
            }
          },
        }),
      }),
    ]
  },
})

/** Gives the editor the threads to place (and highlight, the open ones). */
export function showThreads(editor: Editor, threads: readonly Anchored[]): void {
  if (!editor.isDestroyed) editor.view.dispatch(editor.state.tr.setMeta(key, { threads }))
}

/** Marks one thread's highlight as the active one (null: none). */
export function activate(editor: Editor, active: string | null): void {
  if (!editor.isDestroyed) editor.view.dispatch(editor.state.tr.setMeta(key, { active }))
}
