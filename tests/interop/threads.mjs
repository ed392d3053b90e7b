// Comment anchors computed by Yjs itself, for the thread tests.
//
// One JSON request on stdin, one JSON reply on stdout, then exit:
//
//   {"cmd": "anchor", "state": B64, "name": "text", "index": 4, "length": 5}
//     -> {"start": B64, "end": B64}: Y.createRelativePositionFromTypeIndex at both ends of
//        the range of the Y.Text `name` (the end associated with the character before it),
//        each encoded with Y.encodeRelativePosition
//   {"cmd": "resolve", "state": B64, "start": B64, "end": B64, "name": "text"}
//     -> {"index": 4, "length": 5, "text": "brown"}, or {"index": null, "length": null,
//        "text": null} when the positions no longer frame live text of one type
//
// `state` is a whole document as one Yjs update (a connected client's Y.encodeStateAsUpdate),
// so the positions name the very items that client holds. Errors: {"error": "..."}, status 1.

import * as Y from 'yjs'

const fromBase64 = (text) => new Uint8Array(Buffer.from(text, 'base64'))
const toBase64 = (bytes) => Buffer.from(bytes).toString('base64')

const docOf = (state) => {
  const doc = new Y.Doc()
  Y.applyUpdate(doc, fromBase64(state))
  return doc
}

const anchor = ({ state, name, index, length }) => {
  const text = docOf(state).getText(name)
  if (!Number.isInteger(index) || !Number.isInteger(length) || index + length > text.length) {
    throw new Error(`range ${index}+${length} is not inside the text (length ${text.length})`)
  }
  const start = Y.createRelativePositionFromTypeIndex(text, index, 0)
  const end = Y.createRelativePositionFromTypeIndex(text, index + length, -1)
  return { start: toBase64(Y.encodeRelativePosition(start)), end: toBase64(Y.encodeRelativePosition(end)) }
}

const resolve = ({ state, start, end, name = 'text' }) => {
  const doc = docOf(state)
  // Read the root as a Y.Text first, or Yjs would hand back an untyped AbstractType.
  doc.getText(name)
  const absolute = (b64) =>
    Y.createAbsolutePositionFromRelativePosition(Y.decodeRelativePosition(fromBase64(b64)), doc)
  const from = absolute(start)
  const to = absolute(end)
  if (from === null || to === null || from.type !== to.type || to.index <= from.index) {
    return { index: null, length: null, text: null }
  }
  const text = from.type.toString().slice(from.index, to.index)
  return { index: from.index, length: to.index - from.index, text }
}

const commands = { anchor, resolve }

const chunks = []
process.stdin.on('data', (chunk) => chunks.push(chunk))
process.stdin.on('end', () => {
  try {
    const request = JSON.parse(Buffer.concat(chunks).toString())
    const command = commands[request.cmd]
    if (command === undefined) throw new Error(`unknown command ${JSON.stringify(request.cmd)}`)
    process.stdout.write(JSON.stringify(command(request)) + '\n')
  } catch (error) {
    process.stdout.write(JSON.stringify({ error: String(error?.message ?? error) }) + '\n')
    process.exitCode = 1
  }
})
