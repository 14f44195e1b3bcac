"""Student-facing text in English or Korean: gettext catalogues, one language per process.

``_("...")`` translates now, into the process-wide language.  ``N_("...")`` marks a text
defined at import time (a hint constant) and returns a :class:`LazyText`, translated each
time it is turned into a string: the warm grader imports the suites before it knows a
run's language.  Values go in through named placeholders, filled after translation (never
an f-string inside ``_()``: its text would not be the catalogue's key)::

    _("your {name} has shape {actual}; expected {expected}.").format(name=name, actual=..., expected=...)

English is the source language: an English run, a missing catalogue or a missing entry
give the text as written.  The language is set once per run (the pytest plugin, from the
run spec's ``lang``; the student's ``conftest.py`` from ``DL_LANG`` or the handout's
``assignment.json``) and is English until then.

Catalogues (compiled with Babel, see docs/authoring.md "Translations"):
``shared/locale/<lang>/LC_MESSAGES/shared.mo`` holds the messages of ``shared/`` and of the
public tests and ships to students; the grader adds its own domain (``autograder``: the
hidden suites' hints and the results lines) with :func:`add_domain`.

Standard library only: ``shared/`` ships to students.
"""
from __future__ import annotations

import contextlib
import gettext as _gettext
from pathlib import Path

LANGUAGES = ("en", "ko")
DEFAULT = "en"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"

_domains: dict[str, Path] = {"shared": LOCALE_DIR}
_language = DEFAULT
_cache: dict[tuple, _gettext.NullTranslations] = {}


def add_domain(domain: str, localedir: Path | str) -> None:
    """Also look messages up in ``<localedir>/<lang>/LC_MESSAGES/<domain>.mo``."""
    _domains[domain] = Path(localedir)
    _cache.clear()


def set_language(lang: str | None) -> str:
    """Make ``lang`` ("en" or "ko"; None: English) the language of every later message."""
    global _language
    lang = lang or DEFAULT
    if lang not in LANGUAGES:
        raise ValueError(f"unknown feedback language {lang!r} (one of {', '.join(LANGUAGES)})")
    _language = lang
    return lang


def get_language() -> str:
    return _language


@contextlib.contextmanager
def language(lang: str | None):
    """``with language("ko"): ...``: the messages inside are in ``lang``."""
    before = _language
    set_language(lang)
    try:
        yield
    finally:
        set_language(before)


def translations(lang: str) -> _gettext.NullTranslations:
    """The catalogues of every domain for ``lang``, chained (the first that knows a message wins)."""
    key = (lang, tuple(_domains.items()))
    found = _cache.get(key)
    if found is None:
        found = _gettext.NullTranslations()
        for domain, localedir in _domains.items():
            found.add_fallback(_gettext.translation(domain, localedir, languages=[lang], fallback=True))
        _cache[key] = found
    return found


def translator(lang: str | None):
    """A ``gettext`` for one language, whatever the process-wide one (for code that
    serves several languages at once, e.g. threads of the grading engine)."""
    lang = lang or DEFAULT
    if lang not in LANGUAGES:
        raise ValueError(f"unknown feedback language {lang!r} (one of {', '.join(LANGUAGES)})")

    def translate(message) -> str:
        text = message.message if isinstance(message, LazyText) else str(message)
        return text if lang == DEFAULT else translations(lang).gettext(text)
    return translate


def gettext(message: str) -> str:
    """``message`` in the current language."""
    message = str(message)
    if _language == DEFAULT:
        return message
    return translations(_language).gettext(message)


_ = gettext


def known(text: str) -> str:
    """``text`` translated when it is a catalogued message marked elsewhere (a skip reason
    the plugin sets), else as it is.  Not a marker: ``pybabel extract`` does not see it."""
    return gettext(text)


class LazyText:
    """A message translated when it is used (``str()``, formatting, ``+``), not when defined."""

    __slots__ = ("message",)

    def __init__(self, message: str):
        self.message = message

    def __str__(self) -> str:
        return gettext(self.message)

    def __repr__(self) -> str:
        return f"N_({self.message!r})"

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __add__(self, other):                   # stays lazy: HINT = N_("...") + OTHER_HINT at import time
        return LazyJoin(self, other)

    def __radd__(self, other):
        return LazyJoin(other, self)

    def __mod__(self, values):
        return str(self) % values

    def __eq__(self, other):
        if isinstance(other, (str, LazyText)):
            return str(self) == str(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(str(self))

    def __bool__(self) -> bool:
        return bool(self.message)

    def __len__(self) -> int:
        return len(str(self))

    def __contains__(self, part) -> bool:
        return str(part) in str(self)

    def __getattr__(self, name: str):           # .lower(), .format(), .splitlines(), ...
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(str(self), name)


class LazyJoin(LazyText):
    """Texts (lazy or not) joined end to end, each translated when the whole is used."""

    __slots__ = ("parts",)

    def __init__(self, *parts):
        super().__init__("".join(p.message if isinstance(p, LazyText) else str(p) for p in parts))
        self.parts = parts

    def __str__(self) -> str:
        return "".join(str(p) for p in self.parts)

    def __repr__(self) -> str:
        return " + ".join(repr(p) for p in self.parts)


def N_(message: str) -> LazyText:              # noqa: N802 (the gettext convention)
    """Mark a message defined at import time: it is translated where it is used."""
    return LazyText(message)


__all__ = ["LANGUAGES", "DEFAULT", "LazyJoin", "LazyText", "N_", "_", "add_domain", "get_language", "gettext", "known",
           "language", "set_language", "translations", "translator"]
