// Apply a restore update made in Python to a Yjs replica of the current document, and read
// the result the way y-prosemirror does.
//
// stdin: one JSON object,
//
//   {"current": base64, "update": base64, "target": base64,
//    "anchor": {"block": i, "offset": n} | null, "texts": ["name", ...]}
//
// The replica is a Y.Doc loaded with `current`; before the update is applied, a relative
// position is made at `offset` in the first Y.XmlText of top-level block `block` (a comment
// anchor). stdout: one JSON object,
//
//   {"restored": view, "target": view,
//    "anchor": {"before": index, "after": index | null, "same_type": bool} | null}
//   view = {"string": fragment.toString(), "json": fragment.toJSON(), "tree": [node, ...],
//           "texts": {"name": Y.Text toDelta(), ...}}
//   node = {"element": nodeName, "attributes": {...}, "children": [node, ...]}
//        | {"text": XmlText toDelta()}

import * as Y from 'yjs'

const chunks = []
for await (const chunk of process.stdin) chunks.push(chunk)
const input = JSON.parse(Buffer.concat(chunks).toString('utf8'))
const bytes = (b64) => new Uint8Array(Buffer.from(b64, 'base64'))

const walk = (node) => {
  if (node instanceof Y.XmlText) return { text: node.toDelta() }
  if (node instanceof Y.XmlElement) {
    return {
      element: node.nodeName,
      attributes: node.getAttributes(),
      children: node.toArray().map(walk)
    }
  }
  return { unknown: String(node) }
}

const view = (ydoc) => {
  const fragment = ydoc.getXmlFragment('default')
  const texts = {}
  for (const name of input.texts || []) texts[name] = ydoc.getText(name).toDelta()
  return {
    string: fragment.toString(),
    json: fragment.toJSON(),
    tree: fragment.toArray().map(walk),
    texts
  }
}

const firstText = (node) => {
  if (node instanceof Y.XmlText) return node
  for (const child of node.toArray()) {
    const found = firstText(child)
    if (found) return found
  }
  return null
}

const replica = new Y.Doc()
Y.applyUpdate(replica, bytes(input.current))

let anchor = null
let relative = null
let anchored = null
if (input.anchor) {
  anchored = firstText(replica.getXmlFragment('default').get(input.anchor.block))
  relative = Y.encodeRelativePosition(
    Y.createRelativePositionFromTypeIndex(anchored, input.anchor.offset)
  )
}

Y.applyUpdate(replica, bytes(input.update))

if (relative) {
  const absolute = Y.createAbsolutePositionFromRelativePosition(
    Y.decodeRelativePosition(relative), replica
  )
  anchor = {
    before: input.anchor.offset,
    after: absolute ? absolute.index : null,
    same_type: absolute !== null && absolute.type === anchored && !anchored._item.deleted
  }
}

const target = new Y.Doc()
Y.applyUpdate(target, bytes(input.target))

process.stdout.write(JSON.stringify({ restored: view(replica), target: view(target), anchor }) + '\n')
