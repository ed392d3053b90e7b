// A tiny DOM helper: h('button', {type: 'submit', onclick}, t('save')). No virtual DOM: each
// page builds its nodes once and updates the few that change.

type Child = Node | string | null | undefined | false
type Handler = (event: Event) => void
export type Attrs = Record<string, string | number | boolean | Handler | null | undefined>

/** An element with attributes (``on*`` keys become listeners, booleans toggle) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag)
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue
    if (typeof value === 'function') {
      element.addEventListener(name.slice(2), value)
    } else if (value === true) {
      element.setAttribute(name, '')
    } else {
      element.setAttribute(name, String(value))
    }
  }
  append(element, ...children)
  return element
}

/** Appends children, skipping the empty ones. */
export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue
    parent.appendChild(typeof child === 'string' ? document.createTextNode(child) : child)
  }
}

/** Replaces every child of ``parent``. */
export function replace(parent: Node, ...children: Child[]): void {
  while (parent.firstChild !== null) parent.removeChild(parent.firstChild)
  append(parent, ...children)
}

let fields = 0

/** A labelled form field. The label names the control by ``for`` rather than by wrapping it: a
 * wrapped select would add its selected option to the label's text. */
export function field(label: string, input: HTMLInputElement | HTMLSelectElement): HTMLDivElement {
  if (!input.id) input.id = `field-${++fields}`
  return h('div', { class: 'field' }, h('label', { for: input.id }, label), input)
}

/** The value of a named control of a form. */
export function value(form: HTMLFormElement, name: string): string {
  const control = form.elements.namedItem(name)
  return control instanceof HTMLInputElement || control instanceof HTMLSelectElement
    ? control.value
    : ''
}
