// Read a document the way TipTap's Collaboration extension (y-prosemirror) does.
//
// stdin: one Yjs v1 update, base64. stdout: one JSON object,
//
//   {"default": [node, ...]}
//   node = {"element": nodeName, "attributes": {...}, "children": [node, ...]}
//        | {"text": [{"insert": "...", "attributes": {...}}, ...]}
//
// y-prosemirror builds a ProseMirror node from an element's nodeName and getAttributes(), and
// text nodes from an XmlText's toDelta(), whose formatting attributes are the marks. JSON keeps
// the JavaScript types of attribute values, so the caller can tell a number from a string.

import * as Y from 'yjs'

const chunks = []
for await (const chunk of process.stdin) chunks.push(chunk)
const update = new Uint8Array(Buffer.from(Buffer.concat(chunks).toString('ascii').trim(), 'base64'))

const ydoc = new Y.Doc()
Y.applyUpdate(ydoc, update)

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

process.stdout.write(JSON.stringify({ default: ydoc.getXmlFragment('default').toArray().map(walk) }) + '\n')
