"""Which submissions of a batch look alike: a MOSS-style check on normalised tokens.

Each ``OUT/<name>/source.py`` is tokenised with the standard library's ``tokenize``;
identifiers become ``V`` (keywords, builtins and attribute names after a dot stay), numbers
``N``, strings ``S``; comments, blank lines, indentation, parentheses and trailing commas are
dropped.  So renaming
variables, editing comments or reformatting changes nothing.  Hashes of every ``K`` tokens
in a row are *winnowed* (Schleimer, Wilkerson & Aiken, SIGMOD 2003: the minimum hash of
every window of ``W`` hashes is kept), giving each submission a set of fingerprints that
does not depend on the order of its functions.  Fingerprints of the handout's stub
(``assignments/<id>/<id>.py``: signatures, docstrings, imports) are removed first.

A pair's score is the Jaccard index of its fingerprint sets; its matching regions are runs
of shared fingerprints that advance together in both files, shown side by side.  A few
hundred submissions take seconds (see benchmarks/similarity_speed.py).
"""
from __future__ import annotations

import builtins
import difflib
import io
import keyword
import re
import tokenize
import zlib
from dataclasses import dataclass, field

K = 12          # tokens per hashed k-gram
W = 6           # winnowing window: every match of K + W - 1 tokens or more is found
MIN_PRINTS = 5  # submissions with fewer fingerprints (after the stub is removed) are left out
_KEEP_NAMES = set(keyword.kwlist) | set(dir(builtins)) | {"self", "cls"}
_SKIP = {tokenize.COMMENT, tokenize.NL, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING, tokenize.ENDMARKER}
_FSTRING_PARTS = {getattr(tokenize, n) for n in ("FSTRING_MIDDLE", "FSTRING_END") if hasattr(tokenize, n)}
_FSTRING_START = getattr(tokenize, "FSTRING_START", None)
_FALLBACK = re.compile(r"[A-Za-z_]\w*|\d[\w.]*|\"[^\"]*\"|'[^']*'|\S")


@dataclass
class Doc:
    name: str
    lines: list[str]
    tokens: list[str]
    token_lines: list[int]                       # 1-based line of each token
    prints: dict[int, list[int]] = field(default_factory=dict)   # fingerprint -> token positions


@dataclass
class Block:
    """Matching lines (1-based, inclusive) of the two files of a pair."""
    a_start: int
    a_end: int
    b_start: int
    b_end: int
    a_text: list[str] = field(default_factory=list)
    b_text: list[str] = field(default_factory=list)
    # side by side: (a's line number or None, a's line, b's line number or None, b's line, same?),
    # lines paired by difflib on their normalised tokens, so renamed lines face each other
    rows: list[tuple[int | None, str, int | None, str, bool]] = field(default_factory=list)


@dataclass
class Pair:
    a: str
    b: str
    score: float                 # Jaccard index of the fingerprint sets
    shared: int                  # fingerprints in common
    a_share: float               # fraction of a's fingerprints found in b
    b_share: float
    blocks: list[Block] = field(default_factory=list)


@dataclass
class SimilarityResult:
    pairs: list[Pair]
    compared: list[str]
    skipped: dict[str, str]      # name -> why it was left out


def normalize(source: str) -> tuple[list[str], list[int]]:
    """Normalised tokens of ``source`` and the line each starts on.  Parentheses and trailing
    commas are dropped too: they change with layout (``return a, b`` / ``return (a, b)``)."""
    toks, lines = _tokens(source)
    keep = [i for i, t in enumerate(toks)
            if t not in ("(", ")") and not (t == "," and i + 1 < len(toks) and toks[i + 1] in (")", "]", "}"))]
    return [toks[i] for i in keep], [lines[i] for i in keep]


def _tokens(source: str) -> tuple[list[str], list[int]]:
    toks, lines = [], []
    prev = ""
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type in _SKIP or tok.type in _FSTRING_PARTS:
                continue
            if tok.type == tokenize.NAME:
                text = tok.string if (tok.string in _KEEP_NAMES or prev == ".") else "V"
            elif tok.type == tokenize.NUMBER:
                text = "N"
            elif tok.type == tokenize.STRING or tok.type == _FSTRING_START:
                text = "S"
            elif tok.type == tokenize.NEWLINE:
                text = ";"
            else:
                text = tok.string
            toks.append(text)
            lines.append(tok.start[0])
            prev = tok.string
        return toks, lines
    except (tokenize.TokenError, IndentationError, SyntaxError):
        toks, lines, prev = [], [], ""
    for number, line in enumerate(source.splitlines(), start=1):       # not Python: a rough split
        for word in _FALLBACK.findall(line.split("#", 1)[0]):
            if word[0].isalpha() or word[0] == "_":
                text = word if (word in _KEEP_NAMES or prev == ".") else "V"
            elif word[0].isdigit():
                text = "N"
            elif word[0] in "\"'":
                text = "S"
            else:
                text = word
            toks.append(text)
            lines.append(number)
            prev = word
        toks.append(";")
        lines.append(number)
    return toks, lines


def kgram_hashes(tokens: list[str], k: int = K) -> list[int]:
    return [zlib.crc32("\x1f".join(tokens[i:i + k]).encode()) for i in range(len(tokens) - k + 1)]


def winnow(hashes: list[int], w: int = W) -> dict[int, list[int]]:
    """Fingerprint -> the k-gram positions where it was selected (rightmost minimum of each window)."""
    selected: dict[int, list[int]] = {}
    last = -1
    if not hashes:
        return selected
    if len(hashes) <= w:
        windows = [(0, len(hashes))]
    else:
        windows = [(i, i + w) for i in range(len(hashes) - w + 1)]
    for lo, hi in windows:
        window = hashes[lo:hi]
        low = min(window)
        pos = lo + (len(window) - 1 - window[::-1].index(low))
        if pos != last:
            selected.setdefault(low, []).append(pos)
            last = pos
    return selected


def make_doc(name: str, source: str, exclude: set[int] = frozenset()) -> Doc:
    tokens, lines = normalize(source)
    doc = Doc(name, source.splitlines(), tokens, lines)
    doc.prints = {h: p for h, p in winnow(kgram_hashes(tokens)).items() if h not in exclude}
    return doc


def _blocks(a: Doc, b: Doc, shared: set[int]) -> list[Block]:
    """Runs of shared fingerprints that advance together in a and b, as line ranges."""
    hits = []
    for h in shared:
        for pa in a.prints[h][:8]:
            hits.append((pa, h))
    hits.sort()
    runs: list[list[tuple[int, int]]] = []          # each run: [(pos in a, pos in b)]
    for pa, h in hits:
        candidates = b.prints[h][:8]
        run = runs[-1] if runs else None
        if run and pa - run[-1][0] <= 2 * K:
            expected = run[-1][1] + (pa - run[-1][0])
            pb = min(candidates, key=lambda p: abs(p - expected))
            if abs(pb - expected) <= K:
                run.append((pa, pb))
                continue
        runs.append([(pa, min(candidates))])
    blocks = []
    for run in runs:
        a0, a1 = a.token_lines[run[0][0]], a.token_lines[min(run[-1][0] + K - 1, len(a.token_lines) - 1)]
        b0 = b.token_lines[min(p for _, p in run)]
        b1 = b.token_lines[min(max(p for _, p in run) + K - 1, len(b.token_lines) - 1)]
        if len(run) < 2 and a1 - a0 < 1:
            continue                                 # a single short k-gram is not worth showing
        blocks.append(Block(a0, a1, b0, b1, a.lines[a0 - 1:a1], b.lines[b0 - 1:b1]))
    merged: list[Block] = []
    for blk in sorted(blocks, key=lambda x: (x.a_start, x.b_start)):
        last = merged[-1] if merged else None
        if last and blk.a_start <= last.a_end + 1 and blk.b_start <= last.b_end + 1 and blk.b_end >= last.b_start - 1:
            last.a_end, last.b_end = max(last.a_end, blk.a_end), max(last.b_end, blk.b_end)
            last.b_start = min(last.b_start, blk.b_start)
            last.a_text, last.b_text = a.lines[last.a_start - 1:last.a_end], b.lines[last.b_start - 1:last.b_end]
        else:
            merged.append(blk)
    keys_a, keys_b = _line_keys(a), _line_keys(b)
    for blk in merged:
        blk.rows = _side_by_side(blk, keys_a, keys_b)
    return merged


def _line_keys(doc: Doc) -> dict[int, str]:
    """Line number -> its normalised tokens (blank and comment lines are absent)."""
    keys: dict[int, list[str]] = {}
    for tok, line in zip(doc.tokens, doc.token_lines):
        keys.setdefault(line, []).append(tok)
    return {line: " ".join(toks) for line, toks in keys.items()}


def _side_by_side(blk: Block, keys_a: dict[int, str], keys_b: dict[int, str]):
    a_nums = list(range(blk.a_start, blk.a_end + 1))
    b_nums = list(range(blk.b_start, blk.b_end + 1))
    ka = [keys_a.get(n, "") for n in a_nums]
    kb = [keys_b.get(n, "") for n in b_nums]
    rows = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, ka, kb, autojunk=False).get_opcodes():
        left, right = list(range(i1, i2)), list(range(j1, j2))
        for k in range(max(len(left), len(right))):
            i = left[k] if k < len(left) else None
            j = right[k] if k < len(right) else None
            rows.append((a_nums[i] if i is not None else None, blk.a_text[i] if i is not None else "",
                         b_nums[j] if j is not None else None, blk.b_text[j] if j is not None else "",
                         tag == "equal" and bool(ka[i])))
    return rows


def _top_pairs(sets: list[frozenset], top: int, block_cells: int = 20_000_000) -> list[tuple[float, int, int, int]]:
    """(Jaccard, shared, i, j) of at least the ``top`` best pairs (i < j), ties included.

    Shared fingerprint counts of all pairs at once: a 0/1 matrix (documents x fingerprints
    held by two documents or more) times its transpose, in row blocks to bound memory."""
    import numpy as np
    n = len(sets)
    if n < 2 or top <= 0:
        return []
    counts: dict[int, int] = {}
    for s in sets:
        for h in s:
            counts[h] = counts.get(h, 0) + 1
    column = {h: c for c, h in enumerate(h for h, k in counts.items() if k > 1)}
    matrix = np.zeros((n, max(len(column), 1)), dtype=np.float32)
    for i, s in enumerate(sets):
        cols = [column[h] for h in s if h in column]
        matrix[i, cols] = 1.0
    sizes = np.array([len(s) for s in sets], dtype=np.float64)
    rows = max(1, block_cells // max(n, 1))
    best: list[tuple[float, int, int, int]] = []
    for lo in range(0, n, rows):
        inter = (matrix[lo:lo + rows] @ matrix.T).round().astype(np.int64)       # exact: counts < 2**24
        ii, jj = np.nonzero(np.triu(inter, k=lo + 1))          # pairs (i, j) with j > i only
        shared = inter[ii, jj]
        gi = ii + lo
        jac = shared / (sizes[gi] + sizes[jj] - shared)
        keep = np.argsort(-jac, kind="stable")[:top * 4]
        best += [(float(jac[k]), int(shared[k]), int(gi[k]), int(jj[k])) for k in keep]
        best.sort(key=lambda t: (-t[0], -t[1]))
        best = best[:top * 4]
    return best


def compare_sources(sources: dict[str, str], stub: str | None = None, *, top: int = 10,
                    min_prints: int = MIN_PRINTS) -> SimilarityResult:
    """The ``top`` most similar pairs among ``sources`` (name -> Python source)."""
    exclude: set[int] = set(kgram_hashes(normalize(stub)[0])) if stub else set()
    docs, skipped = [], {}
    for name in sorted(sources):
        doc = make_doc(name, sources[name], exclude)
        if len(doc.prints) < min_prints:
            skipped[name] = "too little code of its own (after removing the handout's stub)"
        else:
            docs.append(doc)
    sets = [frozenset(d.prints) for d in docs]
    scored = _top_pairs(sets, top)
    scored.sort(key=lambda t: (-t[0], -t[1], docs[t[2]].name, docs[t[3]].name))
    pairs = []
    for score, inter, i, j in scored[:max(top, 0)]:
        a, b = docs[i], docs[j]
        shared = sets[i] & sets[j]
        pairs.append(Pair(a.name, b.name, round(score, 4), inter, round(inter / len(sets[i]), 4),
                          round(inter / len(sets[j]), 4), _blocks(a, b, shared)))
    return SimilarityResult(pairs, [d.name for d in docs], skipped)


def stub_source(assignment_id: str | None) -> str | None:
    if not assignment_id:
        return None
    from autograder import registry
    try:
        path = registry.get(assignment_id).stub_path
    except registry.UnknownAssignment:
        return None
    return path.read_text(encoding="utf-8") if path.is_file() else None


def compare_batch(out_dir, *, top: int = 10, assignment_id: str | None = None) -> SimilarityResult:
    """Compare every pair of OUT/<name>/source.py (see the module docstring)."""
    from autograder.instructor.batch import load_batch
    batch = load_batch(out_dir)
    sources, skipped = {}, {}
    for sub in batch.submissions:
        if sub.source_path.is_file():
            sources[sub.name] = sub.source_path.read_text(encoding="utf-8", errors="replace")
        else:
            skipped[sub.name] = "no source.py"
    result = compare_sources(sources, stub_source(assignment_id or batch.assignment_id), top=top)
    result.skipped.update(skipped)
    return result
