"""A team's reply library: templates, knowledge-base articles and reply history, read from JSONL or YAML.

Every problem names the file and the line; entries that can be skipped are skipped with a warning, so
one bad line never hides a whole library.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from webcare_nlp import schema
from webcare_nlp.dataset import TRAINING_DATA
from webcare_nlp.errors import InputError
from webcare_nlp.records import load_json_line
from webcare_nlp.schema import company_key  # the company rule's key, shared with topics' coverage

# A placeholder is a lower-case name in single braces: "{naam}", "{boekingscode}".
PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")
_ANY_BRACE = re.compile(r"[{}]")
# What a bad placeholder looks like from its first stray brace: "{0}", "{ is }", or the word it starts.
_BAD_PLACEHOLDER = re.compile(r"\{[^{}\n]{0,40}\}+|[{}]\S{0,40}")


@dataclass(frozen=True)
class Template:
    """A reusable reply; `text` may hold placeholders such as {naam} and {initialen}."""

    id: str
    text: str
    title: str = ""
    company: str | None = None
    intents: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    lang: str | None = None
    channels: tuple[str, ...] = ()

    @property
    def placeholders(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(PLACEHOLDER.findall(self.text)))

    @property
    def document(self) -> str:
        """The text the ranker matches against: title, tags and the reply itself."""
        return " ".join([self.title, " ".join(self.tags), PLACEHOLDER.sub(" ", self.text)])


@dataclass(frozen=True)
class Article:
    """A knowledge-base article or blog post; its url is its id."""

    url: str
    title: str
    summary: str = ""
    body: str = ""
    company: str | None = None
    tags: tuple[str, ...] = ()
    lang: str | None = None

    @property
    def id(self) -> str:
        return self.url

    @property
    def document(self) -> str:
        # The url's path often names the subject ("/help/bagage-kwijt"), so it is matched too.
        return " ".join(
            [self.title, self.title, " ".join(self.tags), self.summary, self.body[:2000], url_words(self.url)]
        )


def url_words(url: str) -> str:
    """The words of a url's path: "https://x.nl/help/bagage-kwijt" gives "help bagage kwijt".

    Example:
        >>> url_words("https://www.kistje.nl/help/beschadigd-of-defect?x=1")
        'help beschadigd of defect x 1'
    """
    path = re.sub(r"^[a-z]+://[^/]+", "", url)
    return re.sub(r"[/_.\-?=&#%+]+", " ", path).strip()


@dataclass(frozen=True)
class HistoryEntry:
    """A message an agent answered before, and the template ids and article urls that were sent."""

    id: str
    text: str
    used: tuple[str, ...]
    company: str | None = None
    created_at: str | None = None
    rejected: tuple[str, ...] = ()


@dataclass
class Library:
    """Templates, articles and history, with the warnings about what was skipped while reading.

    Example:
        >>> library = Library.from_records(
        ...     templates=[{"id": "t1", "text": "Hoi {naam}, sorry! ^{initialen}", "intents": ["complaint"]}],
        ...     articles=[{"url": "https://x.nl/help", "title": "Hulp"}],
        ... )
        >>> library.templates[0].placeholders
        ('naam', 'initialen')
    """

    templates: list[Template] = field(default_factory=list)
    articles: list[Article] = field(default_factory=list)
    history: list[HistoryEntry] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    # formats.md's company rule, widened on request: a company may also get another company's template or
    # article that its own agents sent before, according to the history (a sister brand's help page).
    shared_by_history: bool = False
    # How many of the first history entries are the project's default history (training_data/): the
    # shipped ranker was fitted on those, so only the entries after them are a team's own.
    default_history: int = 0

    @classmethod
    def load(
        cls,
        *,
        templates: str | Path | None = None,
        articles: str | Path | None = None,
        history: str | Path | None = None,
        shared_by_history: bool = False,
    ) -> Library:
        """Read a library from files or folders of .jsonl/.yaml files.

        With no templates given, every part left out comes from the project's `training_data/`. A
        team's own templates replace that default library: its articles and history are then only what
        is given (the default history names the default templates, not the team's).

        Raises:
            InputError: a file is missing or unreadable, an entry is broken (no id, duplicate id,
                bad placeholder syntax), or the library has neither templates nor articles. The
                message names the file and line.
        """
        own = templates is not None
        parts = {"templates": templates, "articles": articles, "history": history}
        for name, given in parts.items():
            # Path("") is the working folder, whose every .jsonl file would be read as this part.
            if given is not None and (not isinstance(given, (str, os.PathLike)) or not str(given).strip()):
                raise InputError(f"{name} must be a file or folder path, not {given!r}.")
        chosen = {
            name: Path(given) if given is not None else (None if own else TRAINING_DATA / name)
            for name, given in parts.items()
        }
        library = cls(shared_by_history=shared_by_history)
        rows = {name: list(_read_parts(path)) if path is not None else [] for name, path in chosen.items()}
        library.sources = {name: str(path) for name, path in chosen.items() if path is not None}
        # The default history names the default library's ids: a team's own articles do not hold them, and
        # saying so for every line would bury the warnings about the files the team gave.
        mixed = history is None and articles is not None
        library._add(rows["templates"], rows["articles"], rows["history"], warn_unknown=not mixed)
        for part in ("articles", "history"):  # given but empty: that part of the suggestions is off
            if parts[part] is not None and not rows[part]:
                library.warnings.append(f"{chosen[part]}: holds no {part}; suggestions go without them")
        if history is None and not own:
            library.default_history = len(library.history)
        return library

    @classmethod
    def from_records(
        cls,
        *,
        templates: Iterable[dict[str, Any]] = (),
        articles: Iterable[dict[str, Any]] = (),
        history: Iterable[dict[str, Any]] = (),
    ) -> Library:
        """Build a library from in-memory records (the same fields as the files)."""
        for name, given in (("templates", templates), ("articles", articles), ("history", history)):
            if given is None or isinstance(given, (str, bytes, dict)):  # one record or a path, not a list of them
                raise InputError(f"{name} must be a list of records (dicts), not {type(given).__name__}.")
        library = cls()
        library._add(
            [("<templates>", i, r) for i, r in enumerate(templates, 1)],
            [("<articles>", i, r) for i, r in enumerate(articles, 1)],
            [("<history>", i, r) for i, r in enumerate(history, 1)],
        )
        return library

    @property
    def own_history(self) -> int:
        """How many history entries are the team's own (given files and feedback), not the default's."""
        return len(self.history) - self.default_history

    def intent_warnings(self, known: Iterable[str]) -> list[str]:
        """Templates naming an intent the model never predicts (a typo, or "klacht" for "complaint").

        Such a template can still be suggested for its text, but never for its intent; one line per
        unknown intent, naming up to five of its templates.
        """
        known = sorted({str(label) for label in known})
        unknown: dict[str, list[str]] = {}
        for template in self.templates:
            for intent in template.intents:
                if intent not in known:
                    unknown.setdefault(intent, []).append(template.id)
        return [
            f"{self.sources.get('templates', '<templates>')}: intent {intent!r} of template(s) "
            f"{', '.join(ids[:5])}{f' and {len(ids) - 5} more' if len(ids) > 5 else ''} is not one the model "
            f"predicts ({', '.join(known)}); they can match on their text only"
            for intent, ids in unknown.items()
        ]

    def with_history(self, extra: Iterable[dict[str, Any]], *, source: str = "<feedback>") -> Library:
        """A copy with more history (for example what agents used, from the feedback store)."""
        library = Library(
            list(self.templates),
            list(self.articles),
            list(self.history),
            list(self.warnings),
            dict(self.sources),
            self.shared_by_history,
            self.default_history,
        )
        known = {t.id for t in self.templates} | {a.url for a in self.articles}
        for line, record in enumerate(extra, 1):
            entry = _history_entry(record, source, line, known, library.warnings, default_id=f"{source}-{line}")
            if entry is not None:
                library.history.append(entry)
        return library

    def _add(
        self,
        template_rows: list[tuple[str, int, Any]],
        article_rows: list[tuple[str, int, Any]],
        history_rows: list[tuple[str, int, Any]],
        *,
        warn_unknown: bool = True,
    ) -> None:
        seen: dict[str, str] = {}
        for source, line, record in template_rows:
            template = _template(record, source, line)
            if template.id in seen:
                raise InputError(
                    f"{source}:{line}: duplicate template id {template.id!r} (first at {seen[template.id]})."
                )
            seen[template.id] = f"{source}:{line}"
            unknown = [c for c in template.channels if c not in schema.CHANNELS]
            if unknown:
                self.warnings.append(
                    f"{source}:{line}: template {template.id!r} names unknown channel(s) {', '.join(unknown)} "
                    f"(labels.md has {', '.join(schema.CHANNELS)})"
                )
            self.templates.append(template)
        urls: set[str] = set()
        for source, line, record in article_rows:
            article = _article(record, source, line, self.warnings)
            if article is None:
                continue
            if article.url in urls:
                self.warnings.append(f"{source}:{line}: skipped a second article with url {article.url}")
                continue
            urls.add(article.url)
            self.articles.append(article)
        if not self.templates and not self.articles:
            given = [self.sources[part] for part in ("templates", "articles") if part in self.sources]
            names = sorted({source for source, _, _ in template_rows + article_rows}) or given or ["no files"]
            raise InputError(f"The library is empty ({', '.join(names)}): give at least one template or article.")
        known = set(seen) | urls
        warnings = self.warnings if warn_unknown else []
        for source, line, record in history_rows:
            entry = _history_entry(record, source, line, known, warnings, default_id=f"h{len(self.history) + 1}")
            if entry is not None:
                self.history.append(entry)


# -- reading files ---------------------------------------------------------------------------------
def _read_parts(path: Path) -> Iterator[tuple[str, int, Any]]:
    """(file, line, record) for a file, or for every .jsonl/.yaml file of a folder."""
    if not path.exists():
        raise InputError(f"{path}: no such file or folder.")
    kinds = {".jsonl", ".yaml", ".yml"}
    files = sorted(p for p in path.iterdir() if p.suffix.lower() in kinds) if path.is_dir() else [path]
    for file in files:
        yield from _read_file(file)


def shown_warnings(warnings: list[str], limit: int = 20) -> list[str]:
    """The first `limit` warnings of a library, and a count of the rest: what a command or server shows."""
    rest = len(warnings) - limit
    return warnings[:limit] + ([f"... and {rest} more skipped entries"] if rest > 0 else [])


def _read_file(path: Path) -> Iterator[tuple[str, int, Any]]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read it ({exc.strerror}).") from exc
    try:
        text = raw.decode("utf-8-sig")  # a byte-order mark, as Notepad and Excel write, is not text
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte {exc.start}).") from exc
    suffix = path.suffix.lower()
    if suffix in {".yaml", ".yml"}:
        yield from _read_yaml(path, text)
    elif suffix == ".jsonl":
        # Lines end at "\n" only: a JSON string may hold U+2028 or other characters `splitlines` breaks at.
        for line_no, line in enumerate(text.split("\n"), 1):
            if not line.strip():
                continue
            try:
                yield str(path), line_no, load_json_line(line)
            except ValueError as exc:
                raise InputError(f"{path}:{line_no}: {exc}.") from None
    else:
        raise InputError(f"{path}: use a .jsonl or .yaml file.")


def _read_yaml(path: Path, text: str) -> Iterator[tuple[str, int, Any]]:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        node = yaml.compose(text, Loader=loader)
        data = yaml.load(text, Loader=loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        raise InputError(f"{path}{where}: not valid YAML ({getattr(exc, 'problem', exc)}).") from exc
    if data is None:
        return
    if not isinstance(data, list) or node is None:
        raise InputError(f"{path}: expected a YAML list of entries (- id: ...).")
    for item_node, record in zip(node.value, data, strict=True):
        yield str(path), item_node.start_mark.line + 1, record


# -- one entry -------------------------------------------------------------------------------------
def _kind(value: Any) -> str:
    """What YAML or JSON made of an unquoted value, in words."""
    return "number" if isinstance(value, int | float) and not isinstance(value, bool) else type(value).__name__


def _checked(value: str, source: str, line: int, name: str) -> str:
    """A library text without control characters or half characters, which would reach the reply an agent
    sends or make the output unwritable."""
    flaw = schema.text_flaw(value)
    if flaw:
        raise InputError(f"{source}:{line}: {name!r} holds {flaw}; repair or remove it.")
    return value


def _strings(value: Any, source: str, line: int, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (_checked(value, source, line, name),)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(f"{source}:{line}: {name!r} must be a list of strings.")
    return tuple(_checked(v, source, line, name) for v in value)


def _optional_str(record: dict[str, Any], key: str, source: str, line: int) -> str | None:
    value = record.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InputError(f"{source}:{line}: {key!r} must be a string.")
    return _checked(value, source, line, key)


def _check_placeholders(text: str, source: str, line: int) -> None:
    """Every brace must belong to a {lower_case} placeholder, so an agent never sends a stray brace."""
    # The good placeholders blanked out (same length), so the first brace left is the bad one.
    leftover = _ANY_BRACE.search(PLACEHOLDER.sub(lambda m: " " * len(m.group(0)), text))
    if leftover:
        bad = _BAD_PLACEHOLDER.match(text, leftover.start())
        shown = bad.group(0) if bad else leftover.group(0)
        raise InputError(
            f"{source}:{line}: unknown placeholder syntax {shown!r}; write placeholders as {{naam}} "
            "(lower case, letters, digits and _ in single braces)."
        )


def _template(record: Any, source: str, line: int) -> Template:
    if not isinstance(record, dict):
        raise InputError(f"{source}:{line}: a template must be an object with id and text.")
    template_id, text = record.get("id"), record.get("text")
    if template_id is not None and not isinstance(template_id, str):  # YAML reads `id: 101` as a number
        raise InputError(
            f"{source}:{line}: the template id {template_id!r} is a {_kind(template_id)}, not a string; quote it."
        )
    if not isinstance(template_id, str) or not template_id.strip():
        raise InputError(f"{source}:{line}: template without an id.")
    _checked(template_id, source, line, "id")
    if text is not None and not isinstance(text, str):  # YAML reads `text: 2024-01-01` as a date, say
        raise InputError(
            f"{source}:{line}: template {template_id!r} has a text that is a {type(text).__name__}, not a string;"
            " quote it."
        )
    if not isinstance(text, str) or not text.strip():
        raise InputError(f"{source}:{line}: template {template_id!r} has no text.")
    _checked(text, source, line, "text")
    _check_placeholders(text, source, line)
    return Template(
        id=template_id,
        text=text,
        title=_optional_str(record, "title", source, line) or "",
        company=company_key(_optional_str(record, "company", source, line)),
        intents=_strings(record.get("intents"), source, line, "intents"),
        tags=_strings(record.get("tags"), source, line, "tags"),
        lang=_optional_str(record, "lang", source, line),
        channels=_strings(record.get("channels"), source, line, "channels"),
    )


def _article(record: Any, source: str, line: int, warnings: list[str]) -> Article | None:
    if not isinstance(record, dict):
        warnings.append(f"{source}:{line}: skipped: an article must be an object with url and title")
        return None
    url = record.get("url")
    if url is not None and not isinstance(url, str):
        warnings.append(f"{source}:{line}: skipped an article whose url is a {_kind(url)}, not a string; quote it")
        return None
    if not isinstance(url, str) or not url.strip():
        warnings.append(f"{source}:{line}: skipped an article without a url")
        return None
    if schema.text_flaw(url):
        warnings.append(f"{source}:{line}: skipped an article whose url holds {schema.text_flaw(url)}")
        return None
    title = record.get("title")
    if not isinstance(title, str) or not title.strip():
        title = url
    _checked(title, source, line, "title")
    return Article(
        url=url,
        title=title,
        summary=_optional_str(record, "summary", source, line) or "",
        body=_optional_str(record, "body", source, line) or "",
        company=company_key(_optional_str(record, "company", source, line)),
        tags=_strings(record.get("tags"), source, line, "tags"),
        lang=_optional_str(record, "lang", source, line),
    )


def _history_entry(
    record: Any, source: str, line: int, known: set[str], warnings: list[str], *, default_id: str
) -> HistoryEntry | None:
    if not isinstance(record, dict) or not isinstance(record.get("text"), str) or not record["text"].strip():
        warnings.append(f"{source}:{line}: skipped a history line without text")
        return None
    flaw = schema.text_flaw(record["text"])
    if flaw:
        warnings.append(f"{source}:{line}: skipped a history line whose text holds {flaw}")
        return None
    used = record.get("used") or []
    if not isinstance(used, list) or not all(isinstance(u, str) for u in used):
        warnings.append(f"{source}:{line}: skipped a history line whose 'used' is not a list of ids")
        return None
    unknown = [u for u in used if u not in known]
    if unknown:
        warnings.append(f"{source}:{line}: ignored unknown template or article {', '.join(unknown)}")
    rejected = [r for r in record.get("rejected") or [] if isinstance(r, str) and r in known]
    kept = tuple(u for u in used if u in known)
    if not kept and not rejected:
        return None
    company = record.get("company")
    return HistoryEntry(
        id=str(record.get("id") or default_id),
        text=record["text"],
        used=kept,
        company=company_key(company),
        created_at=record.get("created_at") if isinstance(record.get("created_at"), str) else None,
        rejected=tuple(rejected),
    )
