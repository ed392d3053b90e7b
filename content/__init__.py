"""Product content, kept out of the protocol code: the document templates, as data files that
a domain expert edits, and what turns them into documents. Pure: no I/O but reading its own
package data."""

from content.templates import LANGUAGES, TEMPLATES, Template, TemplateFileError, build_template

__all__ = ["LANGUAGES", "TEMPLATES", "Template", "TemplateFileError", "build_template"]
