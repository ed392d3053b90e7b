// Comment anchors as a browser makes and reads them (yjs relative positions), no server.
//
// stdin: one JSON object {"update": base64 | null, "ops": [op, ...]}; the Y.Doc starts from the
// update, then runs the ops in order. stdout: one JSON object {"results": [result, ...]}, one
// result per op (null when the op returns nothing).
//
// A target names a text type: {"root": "text"} is ydoc.getText("text"); {"paragraph": n} is the
// first child (an XmlText) of the n-th child of ydoc.getXmlFragment("default").
//
//   {"op": "paragraph", "text": s}                  append <paragraph>s</paragraph> to default
//   {"op": "delete_paragraph", "paragraph": n}      remove the n-th child of default
//   {"op": "insert", "target": t, "index": i, "text": s}
//   {"op": "delete", "target": t, "index": i, "length": n}
//   {"op": "text", "target": t}                     -> the text, a string
//   {"op": "update"}                                -> Y.encodeStateAsUpdate, base64
//   {"op": "anchor", "target": t, "index": i, "length": n}
//       -> {"start", "end"}: base64 of Y.encodeRelativePosition of
//          createRelativePositionFromTypeIndex(type, i, 0) and (type, i + n, -1)
//   {"op": "resolve", "start": b64, "end": b64}
//       -> {"index", "length"} from createAbsolutePositionFromRelativePosition, or null when
//          an end does not resolve, the ends are in different types, the type is deleted, or
//          the range is empty
//
// Indexes are UTF-16 code units, as everywhere in Yjs.

import * as Y from 'yjs'

const toBase64 = (bytes) => Buffer.from(bytes).toString('base64')
const fromBase64 = (text) => new Uint8Array(Buffer.from(text, 'base64'))

const chunks = []
for await (const chunk of process.stdin) chunks.push(chunk)
const input = JSON.parse(Buffer.concat(chunks).toString('utf8'))

const ydoc = new Y.Doc()
if (input.update) Y.applyUpdate(ydoc, fromBase64(input.update))
const fragment = ydoc.getXmlFragment('default')

const typeOf = (target) => {
  if (target.root !== undefined) return ydoc.getText(target.root)
  const element = fragment.get(target.paragraph)
  if (!(element instanceof Y.XmlElement)) throw new Error(`no paragraph ${target.paragraph}`)
  const text = element.get(0)
  if (!(text instanceof Y.XmlText)) throw new Error(`paragraph ${target.paragraph} has no text`)
  return text
}

const resolve = (start, end) => {
  const a = Y.createAbsolutePositionFromRelativePosition(Y.decodeRelativePosition(fromBase64(start)), ydoc)
  const b = Y.createAbsolutePositionFromRelativePosition(Y.decodeRelativePosition(fromBase64(end)), ydoc)
  if (a === null || b === null || a.type !== b.type) return null
  if (a.type._item !== null && a.type._item.deleted) return null
  if (b.index <= a.index) return null
  return { index: a.index, length: b.index - a.index }
}

const run = (op) => {
  switch (op.op) {
    case 'paragraph': {
      const element = new Y.XmlElement('paragraph')
      element.insert(0, [new Y.XmlText(op.text)])
      fragment.insert(fragment.length, [element])
      return null
    }
    case 'delete_paragraph':
      fragment.delete(op.paragraph, 1)
      return null
    case 'insert':
      typeOf(op.target).insert(op.index, op.text)
      return null
    case 'delete':
      typeOf(op.target).delete(op.index, op.length)
      return null
    case 'text':
      return typeOf(op.target).toString()
    case 'update':
      return toBase64(Y.encodeStateAsUpdate(ydoc))
    case 'anchor': {
      const type = typeOf(op.target)
      const start = Y.createRelativePositionFromTypeIndex(type, op.index, 0)
      const end = Y.createRelativePositionFromTypeIndex(type, op.index + op.length, -1)
      return {
        start: toBase64(Y.encodeRelativePosition(start)),
        end: toBase64(Y.encodeRelativePosition(end))
      }
    }
    case 'resolve':
      return resolve(op.start, op.end)
    default:
      throw new Error(`unknown op ${JSON.stringify(op.op)}`)
  }
}

process.stdout.write(JSON.stringify({ results: input.ops.map(run) }) + '\n')
