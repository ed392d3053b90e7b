// Open a document in TipTap 3 the way its Collaboration extension does, headless, and report
// what that writes to the Y document.
//
// stdin: one Yjs v1 update, base64. stdout: one JSON object,
//
//   {"opened": [change, ...], "typed": [change, ...], "typed_text": "..."}
//   change = {"path": "0/2/1", "node": nodeName, "attributes": {...}} for each element whose
//            attributes differ from before, plus {"inserted": n, "deleted": n} totals
//
// The editor is TipTap's own (@tiptap/core Editor with StarterKit and TableKit, no DOM:
// `element: null`), and the Y side is TipTap's binding code (@tiptap/y-tiptap): the document
// is built from the Y fragment with initProseMirrorDoc (nodes and their Y mapping, as the
// binding does when it renders), dispatched into the editor as the binding's first render is
// (so the editor's appendTransaction rules run: StarterKit's trailing node), and the editor's
// resulting document is written back with updateYFragment under that mapping, as the binding
// does after every editor transaction. "opened" is what opening wrote; "typed" is what typing
// one character into the first table cell then writes, beyond the character itself.

import * as Y from 'yjs'
import { Editor } from '@tiptap/core'
import StarterKit from '@tiptap/starter-kit'
import { TableKit } from '@tiptap/extension-table'
import { Fragment, Slice } from '@tiptap/pm/model'
import { EditorState } from '@tiptap/pm/state'
import { initProseMirrorDoc, updateYFragment, ySyncPluginKey } from '@tiptap/y-tiptap'

for (const level of ['log', 'info', 'debug', 'warn', 'error']) {
  console[level] = (...args) => process.stderr.write(`[tiptap ${level}] ${args.join(' ')}\n`)
}

const chunks = []
for await (const chunk of process.stdin) chunks.push(chunk)
const update = new Uint8Array(Buffer.from(Buffer.concat(chunks).toString('ascii').trim(), 'base64'))

const ydoc = new Y.Doc()
Y.applyUpdate(ydoc, update)
const fragment = ydoc.getXmlFragment('default')

// TipTap's extensions make the schema and the plugins. A headless TipTap editor keeps a
// state without plugins (they join when a view mounts), so the state is made here, with every
// plugin of the extensions, and transactions are applied to it as a view's dispatch would.
// Collaboration replaces the editor's own history: StarterKit without undoRedo.
const editor = new Editor({
  element: null,
  extensions: [StarterKit.configure({ undoRedo: false }), TableKit],
  // JSON, not the default HTML string: there is no DOM to parse HTML with.
  content: { type: 'doc', content: [{ type: 'paragraph' }] }
})

const elements = () => {
  const found = new Map()
  const walk = (node, path) => {
    if (!(node instanceof Y.XmlElement)) return
    found.set(path, { node: node.nodeName, attributes: JSON.stringify(node.getAttributes()) })
    node.toArray().forEach((child, i) => walk(child, `${path}/${i}`))
  }
  fragment.toArray().forEach((child, i) => walk(child, String(i)))
  return found
}

// What a change to the Y document did: elements added, removed or with new attributes, and
// how many structs were inserted and deleted in all.
const record = (act) => {
  const before = elements()
  const updates = []
  const listener = (u) => updates.push(u)
  ydoc.on('update', listener)
  act()
  ydoc.off('update', listener)
  const after = elements()
  const changes = []
  for (const [path, now] of after) {
    const was = before.get(path)
    if (was === undefined || was.node !== now.node || was.attributes !== now.attributes) {
      changes.push({ path, node: now.node, attributes: JSON.parse(now.attributes), was: was ?? null })
    }
  }
  for (const [path, was] of before) {
    if (!after.has(path)) changes.push({ path, removed: was.node })
  }
  let inserted = ''
  let structs = 0
  for (const u of updates) {
    const decoded = Y.decodeUpdate(u)
    structs += decoded.structs.length
    for (const s of decoded.structs) {
      if (s.content && typeof s.content.str === 'string') inserted += s.content.str
    }
  }
  return { changes, structs, inserted, updates: updates.length }
}

// Keyboard shortcuts ask navigator which platform this is; Node 20 has no navigator (21+ has).
globalThis.navigator ??= { platform: 'Linux x86_64', userAgent: 'Node.js' }
let state = EditorState.create({ schema: editor.schema, plugins: editor.extensionManager.plugins })
const dispatch = (tr) => {
  state = state.apply(tr)
}
const { doc: initial, meta } = initProseMirrorDoc(fragment, editor.schema)
let initialContentChanged = false
// The sync plugin's view update after each transaction: write the editor's document to Y,
// unless it is still the schema's empty placeholder document.
const write = () => {
  const empty = state.doc.type.createAndFill()
  if (!initialContentChanged && state.doc.content.findDiffStart(empty.content) === null) return
  initialContentChanged = true
  ydoc.transact(() => updateYFragment(ydoc, fragment, state.doc, meta), ySyncPluginKey)
}

const opened = record(() => {
  const tr = state.tr.replace(
    0,
    state.doc.content.size,
    new Slice(Fragment.from(initial.content), 0, 0)
  )
  dispatch(tr.setMeta(ySyncPluginKey, { isChangeOrigin: true }))
  write()
})

let typed = null
let cell = -1
state.doc.descendants((node, pos) => {
  if (cell < 0 && (node.type.name === 'tableCell' || node.type.name === 'tableHeader')) {
    cell = pos
  }
  return cell < 0
})
if (cell >= 0) {
  typed = record(() => {
    // Inside the cell's first paragraph: cell start + 1 (into the cell) + 1 (into the paragraph).
    dispatch(state.tr.insertText('x', cell + 2))
    write()
  })
}

process.stdout.write(JSON.stringify({ opened, typed, valid: state.doc.check() === undefined }) + '\n')
editor.destroy()
