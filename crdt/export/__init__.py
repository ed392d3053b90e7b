"""Export a document to Markdown or HTML: what TipTap (y-prosemirror) stored in ``default``.

The ``XmlFragment`` is first read into a plain tree, then rendered. Nodes are ProseMirror's, by
TipTap's names: ``paragraph``, ``heading`` (``level``), ``bulletList``, ``orderedList``
(``start``), ``taskList``/``taskItem`` (``checked``), ``listItem``, ``blockquote``,
``codeBlock`` (``language``), ``horizontalRule``, ``hardBreak``, ``image`` (``src``, ``alt``),
``mention`` (``label``), ``table``/``tableRow``/``tableHeader``/``tableCell`` (``colspan``,
``rowspan``). Marks are the formatting attributes of the text: ``bold``, ``italic``,
``strike``, ``code``, ``link`` (``href``), and in HTML also ``underline``, ``highlight``,
``subscript``, ``superscript``.

Any other element is rendered through its content, so that no text is lost and no structure
makes the export fail; embedded values inside a text (which y-prosemirror never writes) are
skipped. Links whose address is not relative or of the scheme http, https or mailto, and images
whose address is not relative, http or https, lose their address: the check is made on the
address exactly as emitted and as any HTML entity decoding reads it (see
:func:`crdt.export._reader._safe_url`).
Elements nested deeper than :data:`MAX_DEPTH` are rendered as plain text.

One reader, one module per format: :mod:`crdt.export._reader` reads the ``XmlFragment`` into a
plain tree and owns the address check, :mod:`crdt.export._inline` nests marks for both formats,
and :mod:`crdt.export.markdown` and :mod:`crdt.export.html` render. A new format is a module
beside them over the same tree.
"""

from crdt.export._reader import MAX_DEPTH
from crdt.export.html import to_html
from crdt.export.markdown import to_markdown

__all__ = ["MAX_DEPTH", "to_html", "to_markdown"]
