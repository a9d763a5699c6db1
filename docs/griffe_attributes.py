"""griffe extension of the docs build: a class's numpydoc ``Attributes`` section documents its members.

The results classes set most of their public attributes in ``__init__`` (``self.params = ...``),
where a member cannot carry a docstring of its own, and list them in an ``Attributes`` section of
the class docstring instead. mkdocstrings lists every public member (``show_if_no_docstring`` in
``docs/api/results.md``); this extension gives each member without a docstring the description
(and type) of its entry in that section, so the reference says what ``params`` is where it lists
``params``.
"""

from __future__ import annotations

import griffe


class AttributesSection(griffe.Extension):
    """Copy each ``Attributes`` entry of a class docstring onto the member of that name."""

    def on_class_members(self, *, cls: griffe.Class, **kwargs) -> None:
        if cls.docstring is None:
            return
        sections = cls.docstring.parse(cls.docstring.parser or "numpy",
                                       **(cls.docstring.parser_options or {}))
        for section in sections:
            if not isinstance(section, griffe.DocstringSectionAttributes):
                continue
            for entry in section.value:
                member = cls.members.get(entry.name)
                if member is None or member.is_alias or member.docstring is not None:
                    continue
                if not entry.description:
                    continue
                member.docstring = griffe.Docstring(
                    entry.description, parent=member, parser=cls.docstring.parser,
                    parser_options=cls.docstring.parser_options)
                if getattr(member, "annotation", None) is None and entry.annotation:
                    member.annotation = entry.annotation
