"""Griffe extension for the API reference: the reStructuredText in docstrings, as Markdown.

ketex's docstrings are numpydoc, so they use a little reStructuredText that Markdown
would print as it stands:

- Sphinx roles (``:func:`load_trial```, ``:class:`~ketex.study.trial.Trial```) become
  *optional* cross-references: a link when the target is on the site, plain code
  otherwise, so they never fail the build. A ``~`` shows the last name only, as in
  Sphinx. ``:math:`x``` becomes code.
- Simple tables (``=====  =====`` borders) and ``.. math::`` blocks become code blocks,
  which keep their alignment.
- Citations (``.. [1] Author ...``) become a list.

The rewriting happens in memory, once griffe has loaded the package, for the
documentation build only; the source files are not touched.
"""

from __future__ import annotations

import html
import re
from typing import Any

import griffe

ROLE = re.compile(r":(?:py:)?(func|class|mod|meth|attr|data|obj|exc|math):`(~?)([^`]+?)`")
BORDER = re.compile(r"^\s*=+( +=+)+\s*$")
CITATION = re.compile(r"^(\s*)\.\. \[(\w+)\]\s+")


def _resolve(obj: griffe.Object, target: str) -> str:
    """The full path of ``target`` as named in ``obj``'s scope (as written if unknown)."""
    first, _, rest = target.partition(".")
    try:
        path = obj.resolve(first)
    except Exception:  # noqa: BLE001 - a name griffe cannot resolve stays as written
        return target
    return f"{path}.{rest}" if rest else path


def _roles(obj: griffe.Object, text: str) -> str:
    def replace(match: re.Match) -> str:
        role, tilde, target = match.group(1), match.group(2), match.group(3).strip()
        if role == "math":
            return f"`{target}`"
        shown = html.escape(target.rsplit(".", 1)[-1] if tilde else target)
        identifier = html.escape(_resolve(obj, target), quote=True)
        return f'<autoref identifier="{identifier}" optional><code>{shown}</code></autoref>'

    return ROLE.sub(replace, text)


def _blocks(text: str) -> str:
    """Simple tables and ``.. math::`` blocks as fenced code; citations as a list."""
    lines, out, i = text.splitlines(), [], 0
    while i < len(lines):
        line = lines[i]
        if BORDER.match(line):
            end = i + 1
            while end < len(lines) and not (
                BORDER.match(lines[end]) and (end + 1 == len(lines) or not lines[end + 1].strip())
            ):
                end += 1
            out += ["```text", *lines[i : end + 1], "```"]
            i = end + 1
        elif line.strip() == ".. math::":
            end = i + 1
            while end < len(lines) and (not lines[end].strip() or lines[end].startswith(" ")):
                end += 1
            body = [entry.removeprefix("    ") for entry in lines[i + 1 : end]]
            while body and not body[-1].strip():
                body.pop()
            out += ["```text", *[entry for entry in body if entry.strip()], "```", ""]
            i = end
        elif match := CITATION.match(line):
            out.append(f"{match.group(1)}- [{match.group(2)}] {line[match.end():]}")
            i += 1
        else:
            out.append(line)
            i += 1
    return "\n".join(out)


class RstRoles(griffe.Extension):
    """Rewrite the reStructuredText of every docstring of a loaded package."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        self._walk(pkg, seen=set())

    def _walk(self, obj: griffe.Object, seen: set[str]) -> None:
        if obj.path in seen:
            return
        seen.add(obj.path)
        if obj.docstring is not None:
            obj.docstring.value = _blocks(_roles(obj, obj.docstring.value))
        for member in obj.members.values():
            if not member.is_alias:
                self._walk(member, seen)
