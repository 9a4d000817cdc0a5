"""Reference-manager files read back: BibTeX (bibtexparser), RIS (rispy) and CSL-JSON (Zotero's
"Better CSL JSON" and plain CSL JSON exports).

``read_references`` turns a file into ``Reference``s: what each entry says that can find the
paper in the catalog (its arXiv id, from an ``eprint``, a URL, a ``journal``/``note`` such as
"arXiv preprint arXiv:2401.01234" or arXiv's DataCite DOI; else its DOI and title), and where
the entry is in the file. An entry that cannot be read is a ``Reference`` with a ``problem``, so
callers report it instead of dropping it. A file unusable as a whole (not UTF-8, no entries,
JSON that is not a list of items) raises ``ReferenceFileError``. No database here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import rispy  # type: ignore[import-untyped]  # ships no py.typed
from bibtexparser.entrypoint import parse_string
from bibtexparser.middlewares import LatexDecodingMiddleware

from dailypapers.sources.records import ARXIV_ID, collapse_ws

ReferenceFormat = Literal["bibtex", "ris", "csl-json"]
FORMAT_NAMES: dict[ReferenceFormat, str] = {"bibtex": "BibTeX", "ris": "RIS", "csl-json": "CSL-JSON"}
#: A file with more entries than this is refused whole (a library export, not a catalog dump).
MAX_ENTRIES = 5000

# An arXiv id inside free text: "arXiv:2401.01234v2", "arxiv.org/abs/hep-th/9901001", the DOI
# "10.48550/arXiv.2401.01234".
_ARXIV_IN_TEXT = re.compile(
    r"(?:arxiv\s*[:.]\s*|arxiv\.org/(?:abs|pdf|html)/)"
    r"(?P<id>\d{4}\.\d{4,5}|[a-z][a-z.\-]*(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?",
    re.IGNORECASE)
_DOI = re.compile(r"10\.\d{4,9}/\S+")
_RIS_START = re.compile(r"^TY  - ", re.MULTILINE)


class ReferenceFileError(ValueError):
    """The file as a whole cannot be read; the message says why, for the person who sent it."""


@dataclass(frozen=True)
class Reference:
    where: str  # "line 12" (BibTeX, RIS) or "item 3" (CSL-JSON)
    label: str  # what the entry is called in the file: its key, else its title
    title: str = ""
    arxiv_id: str | None = None
    doi: str | None = None
    problem: str | None = None  # set when the entry could not be read


def arxiv_id_in(values: Iterable[object]) -> str | None:
    """The first arXiv id in any of ``values`` (free text, URLs, DOIs), without version."""
    for value in values:
        if not isinstance(value, str) or not value:
            continue
        found = _ARXIV_IN_TEXT.search(value)
        if found:
            return found.group("id")
    return None


def _doi(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    found = _DOI.search(value)
    return found.group(0).rstrip(".,;").lower() if found else None


def _eprint_id(eprint: object, prefix: object) -> str | None:
    """A bare ``eprint`` is an arXiv id when the entry says so, or when it looks like one."""
    if not isinstance(eprint, str):
        return None
    match = ARXIV_ID.match(eprint.strip())
    if match and (str(prefix or "").lower() in ("arxiv", "") or "." in match.group("id")):
        return match.group("id")
    return arxiv_id_in([eprint])


def _reference(where: str, label: str, title: object, *, arxiv: str | None,
               doi: str | None) -> Reference:
    text = collapse_ws(title) if isinstance(title, str) else ""
    problem = None if (text or arxiv or doi) else "no title, arXiv id or DOI to match it by"
    return Reference(where=where, label=label or text[:120] or where, title=text, arxiv_id=arxiv,
                     doi=doi, problem=problem)


def _bibtex(text: str) -> list[Reference]:
    library = parse_string(text, append_middleware=[LatexDecodingMiddleware()])
    refs = []
    for entry in library.entries:
        fields = {f.key.lower(): f.value for f in entry.fields}
        arxiv = (_eprint_id(fields.get("eprint"), fields.get("archiveprefix") or fields.get("eprinttype"))
                 or arxiv_id_in(fields.get(k) for k in ("url", "doi", "journal", "note", "howpublished",
                                                        "booktitle", "publisher")))
        # Braces that protect capitals ("{BERT}") are not part of the title.
        title = str(fields.get("title", "")).replace("{", "").replace("}", "")
        refs.append(_reference(f"line {(entry.start_line or 0) + 1}", entry.key, title, arxiv=arxiv,
                               doi=_doi(fields.get("doi"))))
    for block in library.failed_blocks:
        start = getattr(block, "start_line", 0) + 1
        refs.append(Reference(where=f"line {start}", label=f"entry at line {start}",
                              problem=f"could not be read as BibTeX ({type(block).__name__})"))
    return sorted(refs, key=lambda r: int(r.where.split()[1]))


def _ris(text: str) -> list[Reference]:
    starts = [text.count("\n", 0, m.start()) + 1 for m in _RIS_START.finditer(text)]
    try:
        entries = rispy.loads(text, skip_unknown_tags=True)
    except (rispy.parser.ParseError, ValueError, KeyError) as exc:
        raise ReferenceFileError(f"not a readable RIS file: {exc}") from exc
    refs = []
    for i, entry in enumerate(entries):
        where = f"line {starts[i]}" if i < len(starts) else f"entry {i + 1}"
        urls = [*entry.get("urls", []), entry.get("url")]
        notes = entry.get("notes", []) if isinstance(entry.get("notes"), list) else [entry.get("notes")]
        arxiv = arxiv_id_in([entry.get("doi"), *urls, entry.get("journal_name"),
                             entry.get("secondary_title"), *notes, entry.get("note"),
                             entry.get("number"), entry.get("id")])
        title = entry.get("title") or entry.get("primary_title") or ""
        refs.append(_reference(where, str(entry.get("id") or ""), title, arxiv=arxiv,
                               doi=_doi(entry.get("doi"))))
    return refs


def _csl_items(data: Any) -> list[Any]:
    if isinstance(data, Mapping) and isinstance(data.get("items"), list):
        return list(data["items"])
    if isinstance(data, Mapping):
        return [data]
    if isinstance(data, list):
        return data
    raise ReferenceFileError("a CSL-JSON file is a list of items")


def _csl_json(text: str) -> list[Reference]:
    try:
        items = _csl_items(json.loads(text))
    except json.JSONDecodeError as exc:
        raise ReferenceFileError(f"not valid JSON (line {exc.lineno}: {exc.msg})") from exc
    refs = []
    for i, item in enumerate(items, start=1):
        if not isinstance(item, Mapping):
            refs.append(Reference(where=f"item {i}", label=f"item {i}", problem="not a CSL item (an object)"))
            continue
        archive = str(item.get("archive") or item.get("publisher") or "").lower()
        number = item.get("number") if isinstance(item.get("number"), str) else None
        arxiv = ((_eprint_id(number, "arxiv") if number and "arxiv" in archive else None)
                 or arxiv_id_in([item.get("DOI"), item.get("URL"), item.get("container-title"),
                                 item.get("note"), number, item.get("id")]))
        refs.append(_reference(f"item {i}", str(item.get("id") or ""), item.get("title"),
                               arxiv=arxiv, doi=_doi(item.get("DOI"))))
    return refs


def detect_format(filename: str, text: str) -> ReferenceFormat:
    """The format by the file's name, else by its first characters."""
    name = filename.lower()
    if name.endswith((".bib", ".bibtex")):
        return "bibtex"
    if name.endswith((".ris", ".txt")) and _RIS_START.search(text):
        return "ris"
    if name.endswith(".json"):
        return "csl-json"
    start = text.lstrip()[:1]
    if start in ("[", "{"):
        return "csl-json"
    if _RIS_START.search(text):
        return "ris"
    if re.search(r"@\w+\s*[{(]", text):
        return "bibtex"
    raise ReferenceFileError("not a BibTeX, RIS or CSL-JSON file (nothing in it looks like one)")


def read_references(*, filename: str, content: bytes) -> tuple[ReferenceFormat, list[Reference]]:
    """Every entry of a reference file, in file order; ``ReferenceFileError`` for a bad file."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ReferenceFileError(f"not UTF-8 text (byte {exc.start} cannot be read)") from exc
    if not text.strip():
        raise ReferenceFileError("the file is empty")
    fmt = detect_format(filename, text)
    refs = {"bibtex": _bibtex, "ris": _ris, "csl-json": _csl_json}[fmt](text)
    if not refs:
        raise ReferenceFileError(f"no {FORMAT_NAMES[fmt]} entries in the file")
    if len(refs) > MAX_ENTRIES:
        raise ReferenceFileError(f"{len(refs)} entries: at most {MAX_ENTRIES} at a time")
    return fmt, refs
