"""Pick verbatim sentences and quotes that sum up a story, without repeating itself."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

from briefing.briefs.furniture import is_furniture, quoted_share, without_label

MIN_WORDS = 8
LEDE_MIN_WORDS = 5  # a lede sentence may be short ("Two people died.")
MAX_WORDS = 60
# Cosine similarity (TF-IDF) above which two sentences say the same thing.
REDUNDANT = 0.5
# A new sentence this close to something already reported is not news.
ALREADY_REPORTED = 0.55
QUOTE_MIN_WORDS = 5
QUOTE_MAX_WORDS = 70
MMR_LAMBDA = 0.7
HEADLINE_WEIGHT = 0.5  # a sentence restating a headline is often the key fact
LEAD_BONUS = 1.0  # how much more a lede sentence weighs than a late one
ARTICLE_FLOOR = 0.5  # the weight of the story's least central article, the most central's 1

# Lower-case phrases that mark page furniture rather than reporting. Plain substring
# tests: a regex alternation over every sentence of the day was the slowest step.
# Specific on purpose: "subscribers" or "copyright law" are news, "subscribe to" is not.
BOILERPLATE = (
    "click here", "subscribe to", "subscribe now", "sign up for", "newsletter",
    "all rights reserved", "copyright ©", "read more:", "follow us on", "cookie policy",
    "accept cookies", "advertisement", "contributed to this report", "download our app",
    "download the app", "photo credit", "image credit", "getty images", "for more news",
)  # fmt: skip
CREDIT_LINES = ("reporting by", "additional reporting", "editing by", "writing by", "photo:")
# Sentences opening like this lean on a previous sentence that the reader will not see.
_DANGLING_START = re.compile(
    r"^(he|she|it|they|this|that|these|those|but|and|so|also|however|meanwhile|"
    r"still|yet|then|his|her|its|their)\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"\w+")
QUOTE_RUN = 3  # sentences a quotation left open is taken to run on, at most
# Quotation marks. An opening one stands at the start or after a space, bracket or dash,
# before a word. A closing one is curly, or follows a stop or comma ("away,' he said"), or
# follows a word while a quotation is open ("'Mama' June"); so an apostrophe ("players'
# union", "world's", "the '90s") is neither.
_QUOTE_MARK = re.compile(
    r"(?P<open>(?:^|(?<=[\s(\[—–-]))[“‘\"'](?=[^\W\d_]|[“‘\"']))"
    r"|(?P<close>”|(?<=[.,!?;:…])[’'\"]|\")"
    r"|(?P<after_word>(?<=\w)[’'](?=[\s)\].,;:!?]|$))"
)
# "'We are close,' NASA's chief scientist said on Tuesday.": a quotation, then its speaker.
_ATTRIBUTED = re.compile(r"^[“\"‘'](?P<quote>.+?[,.!?—-])[”\"’']\s+(?P<by>[^“\"‘]+)$")
# A shorter quotation ("'It is a good day,' said the mayor.") is colour, not news.
ATTRIBUTED_MIN_WORDS = 8
_SPEECH_VERBS = frozenset(
    "said says told tells added adds explained insisted warned wrote writes according".split()
)
_UNSPACED = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")  # kana, kanji


@dataclass(frozen=True, slots=True)
class Candidate:
    """One usable sentence and where it came from."""

    text: str
    article: int
    position: int


@dataclass(frozen=True, slots=True)
class PickedQuote:
    """A quote chosen for a story, with the article it came from."""

    text: str
    speaker: str
    article: int


def word_count(text: str) -> int:
    """Count the words in a text; Chinese and Japanese, unspaced, at two characters a word."""
    ideographs = len(_UNSPACED.findall(text))
    if not ideographs:
        return len(_WORD.findall(text))
    return len(_WORD.findall(_UNSPACED.sub(" ", text))) + (ideographs + 1) // 2


def _key(text: str) -> str:
    return " ".join(_WORD.findall(text.lower()))


def is_usable(
    sentence: str, *, min_words: int = MIN_WORDS, attributed_quotes: bool = False
) -> bool:
    """Tell whether a sentence can stand in a summary on its own.

    attributed_quotes lets in a whole quotation followed by who said it ("'We are close,'
    NASA's chief scientist said."), and the writer's own sentence however much of it is
    quoted ('The law bans what it calls "…" and defines as "…"'), as a lede told in the
    writer's order may have them.
    """
    words = word_count(sentence)
    if words < min_words or words > MAX_WORDS or sentence.rstrip().endswith("?"):
        return False
    lowered = sentence.lower()
    if lowered.startswith(CREDIT_LINES) or any(phrase in lowered for phrase in BOILERPLATE):
        return False
    if attributed_quotes and attributed_quotation(sentence):
        return not is_furniture(sentence)
    if sentence.lstrip()[:1] in "\"“‘'" or is_furniture(sentence):
        return False  # a quote opening the sentence reads as a pull quote, not a summary
    if _unbalanced_quote(sentence):
        return False  # 'We know how to look," she said.': the tail of a quote cut in two
    return attributed_quotes or quoted_share(sentence) < 0.5


def attributed_quotation(sentence: str) -> bool:
    """Tell whether a sentence is one whole quotation and then who said it."""
    match = _ATTRIBUTED.match(sentence.strip())
    if match is None or _quote_marks(sentence) != (False, False):
        return False
    if word_count(match.group("quote")) < ATTRIBUTED_MIN_WORDS:
        return False
    said_by = _WORD.findall(match.group("by"))
    return len(said_by) >= 2 and any(word in _SPEECH_VERBS for word in said_by[:8])


def _unbalanced_quote(sentence: str) -> bool:
    """Tell whether a sentence closes a double quote it never opened, or opens one it never
    closes: a piece of a longer quotation."""
    straight = sentence.count('"')
    return straight % 2 == 1 or sentence.count("“") != sentence.count("”")


def inside_quotations(sentences: Sequence[str]) -> list[bool]:
    """Tell, for each sentence of an article, whether it sits inside a quotation that an
    earlier sentence opened: 'Every time… away. This is where I want to be.' The second
    sentence, alone, would read as the writer's own claim.

    A quotation runs until a sentence closes it, or for QUOTE_RUN sentences at most (some
    copy drops the closing mark).
    """
    inside: list[bool] = []
    running = 0
    for sentence in sentences:
        opens, closes = _quote_marks(sentence)
        if running and not _opens_at_start(sentence):
            inside.append(True)
            running = 0 if closes else running - 1
        else:
            inside.append(closes and not opens and not running)
            running = 0
        if opens:
            running = QUOTE_RUN
    return inside


def _opens_at_start(sentence: str) -> bool:
    return sentence.lstrip()[:1] in "\"“‘'"


def _quote_marks(sentence: str) -> tuple[bool, bool]:
    """Return whether a sentence leaves a quotation open at its end, and whether it closes
    one it never opened (the tail of a quotation cut in two)."""
    depth = 0
    closes_unopened = False
    for match in _QUOTE_MARK.finditer(sentence):
        if match.group("open"):
            depth += 1
        elif depth:
            depth -= 1
        elif match.group("close"):
            closes_unopened = True
    return depth > 0, closes_unopened


def candidates(
    articles: Sequence[Sequence[str]],
    *,
    min_words: int = MIN_WORDS,
    attributed_quotes: bool = False,
) -> list[Candidate]:
    """List the usable sentences of some articles, each distinct text once."""
    seen: set[str] = set()
    found: list[Candidate] = []
    for article_index, sentences in enumerate(articles):
        quoted = inside_quotations(sentences)
        for position, raw in enumerate(sentences):
            sentence = without_label(raw)
            key = _key(sentence)
            if key in seen or quoted[position]:
                continue
            if not is_usable(sentence, min_words=min_words, attributed_quotes=attributed_quotes):
                continue
            seen.add(key)
            found.append(Candidate(sentence, article_index, position))
    return found


class SentenceVectoriser:
    """TF-IDF over the day's sentences, so that a story's own words weigh most."""

    def __init__(self, corpus: Iterable[str]) -> None:
        self._model = TfidfVectorizer(stop_words="english", sublinear_tf=True, min_df=1)
        texts = list(dict.fromkeys(text for text in corpus if _WORD.search(text)))
        self._rows: dict[str, int] = {}
        self._fitted = False
        if texts:
            try:
                # Transform the corpus once; stories then look their sentences up by text.
                self._corpus = sparse.csr_matrix(self._model.fit_transform(texts))
            except ValueError:  # only stop words: nothing to weigh
                return
            self._rows = {text: row for row, text in enumerate(texts)}
            self._fitted = True

    def matrix(self, texts: Sequence[str]) -> sparse.csr_matrix:
        """Return L2-normalised sparse rows, one per text (zeros for unknown words)."""
        if not self._fitted or not texts:
            return sparse.csr_matrix((len(texts), 1))
        rows = [self._rows.get(text) for text in texts]
        if all(row is not None for row in rows):
            return self._corpus[rows]
        return sparse.csr_matrix(self._model.transform(list(texts)))


def _similarity(first: sparse.csr_matrix, second: sparse.csr_matrix) -> np.ndarray:
    """Return the dense cosine similarities between two sets of normalised rows."""
    return (first @ second.T).toarray()


def _scores(
    found: Sequence[Candidate],
    vectors: sparse.csr_matrix,
    headlines: sparse.csr_matrix | None = None,
) -> np.ndarray:
    """Score sentences by centrality in their story and closeness to headlines; favour ledes."""
    centrality = _centrality(found, vectors)
    if headlines is not None and headlines.shape[0]:
        # Headlines name the event; a sentence that restates one is usually the key fact.
        centrality = centrality + HEADLINE_WEIGHT * _similarity(vectors, headlines).mean(axis=1)
    lead = np.array([1.0 + LEAD_BONUS / (1 + item.position) for item in found])
    dangling = np.array([0.6 if _DANGLING_START.match(item.text) else 1.0 for item in found])
    return (centrality + 1e-6) * lead * dangling * _article_weights(found, vectors)


def _centrality(found: Sequence[Candidate], vectors: sparse.csr_matrix) -> np.ndarray:
    """Score each sentence by how close it comes to what the story's articles say.

    Within one article: the mean similarity to its other sentences. Across several: the
    similarity to the mean of the articles' directions, each article counting once, so a
    long page (a transcript, a list of captions) does not outweigh four short reports.
    """
    count = len(found)
    if count == 1:
        return np.ones(1)
    index = np.array([item.article for item in found])
    articles = np.unique(index)
    if len(articles) == 1:
        # Mean similarity to the other sentences, through the sum vector: O(n), not O(n²).
        total = sparse.csr_matrix(vectors.sum(axis=0))
        own = np.asarray(vectors.multiply(vectors).sum(axis=1)).ravel()
        return (_similarity(vectors, total).ravel() - own) / (count - 1)
    means = sparse.vstack(
        [sparse.csr_matrix(vectors[index == a].mean(axis=0)) for a in articles]
    ).tocsr()
    norms = np.sqrt(np.asarray(means.multiply(means).sum(axis=1)).ravel()) + 1e-9
    centre = sparse.csr_matrix(sparse.diags(1.0 / norms) @ means).mean(axis=0)
    return np.asarray(vectors @ np.asarray(centre).ravel()).ravel()


def _article_weights(found: Sequence[Candidate], vectors: sparse.csr_matrix) -> np.ndarray:
    """Weigh each sentence by how central its article is, so an off-topic page cannot lead."""
    articles = sorted({item.article for item in found})
    if len(articles) < 3:
        return np.ones(len(found))
    index = np.array([item.article for item in found])
    means = sparse.vstack(
        [sparse.csr_matrix(vectors[index == a].mean(axis=0)) for a in articles]
    ).tocsr()
    norms = np.sqrt(np.asarray(means.multiply(means).sum(axis=1)).ravel()) + 1e-9
    story = sparse.csr_matrix(means.sum(axis=0))
    closeness = _similarity(means, story).ravel() / norms
    closeness = closeness / (closeness.max() or 1.0)
    weight = dict(zip(articles, ARTICLE_FLOOR + (1 - ARTICLE_FLOOR) * closeness, strict=True))
    return np.array([weight[item.article] for item in found])


def _mmr(
    scores: np.ndarray,
    vectors: sparse.csr_matrix,
    count: int,
    avoid: sparse.csr_matrix | None = None,
) -> list[int]:
    """Pick up to `count` rows by maximal marginal relevance, skipping repeats."""
    chosen: list[int] = []
    top = float(scores.max()) if len(scores) and scores.max() > 0 else 1.0
    base = np.zeros(len(scores))
    if avoid is not None and avoid.shape[0]:
        base = _similarity(vectors, avoid).max(axis=1)
    while len(chosen) < count:
        overlap = base
        if chosen:
            overlap = np.maximum(base, _similarity(vectors, vectors[chosen]).max(axis=1))
        value = MMR_LAMBDA * scores / top - (1 - MMR_LAMBDA) * overlap
        value[overlap > REDUNDANT] = -np.inf
        value[chosen] = -np.inf
        best = int(np.argmax(value)) if len(value) else -1
        if best < 0 or value[best] == -np.inf:
            break
        chosen.append(best)
    return chosen


def summarise(
    articles: Sequence[Sequence[str]],
    vectoriser: SentenceVectoriser,
    *,
    count: int,
    avoid: Sequence[str] = (),
    headlines: Sequence[str] = (),
    max_words: int = 110,
    people: Sequence[str] = (),
) -> tuple[str, ...]:
    """Choose up to `count` verbatim sentences that together sum up the articles.

    people (full names) keeps a sentence that calls one of them by surname alone out of the
    summary until an earlier sentence has named them in full.
    """
    found = candidates(articles) or candidates(articles, min_words=4)
    if not found:
        return ()
    vectors = vectoriser.matrix([item.text for item in found])
    avoid_vectors = vectoriser.matrix(list(avoid)) if avoid else None
    scores = _scores(found, vectors, vectoriser.matrix(list(headlines)))
    picked = _mmr(scores, vectors, count, avoid_vectors)
    chosen: list[str] = []
    words = 0
    for index in picked:
        text = found[index].text
        if chosen and len(chosen) >= 2 and words + word_count(text) > max_words:
            break
        chosen.append(text)
        words += word_count(text)
    return tuple(_introduce_first(chosen, people))


def _introduce_first(chosen: list[str], people: Sequence[str]) -> list[str]:
    """Order sentences so a person is named in full before being called by surname alone.

    "Schmack concluded…" never opens a summary whose next sentence says "Anna Schmack".
    """
    ordered: list[str] = []
    waiting = list(chosen)
    while waiting:
        ready = next((t for t in waiting if not _unintroduced(t, ordered, waiting, people)), None)
        ordered.append(ready if ready is not None else waiting[0])
        waiting.remove(ordered[-1])
    return ordered


def _unintroduced(
    text: str, before: Sequence[str], later: Sequence[str], people: Sequence[str]
) -> bool:
    """Tell whether a sentence uses a surname alone whose full name only a later one gives."""
    for name in people:
        surname = name.split()[-1]
        if name in text or not re.search(rf"\b{re.escape(surname)}\b", text):
            continue
        introduced = any(name in earlier for earlier in before)
        if not introduced and any(name in other for other in later if other is not text):
            return True
    return False


def summary_length(article_count: int) -> int:
    """Return how many sentences a story of article_count articles is summed up in."""
    return 3 if article_count <= 3 else 4


def story_summary(
    articles: Sequence[Sequence[str]],
    titles: Sequence[str],
    vectoriser: SentenceVectoriser,
    *,
    avoid: Sequence[str] = (),
    max_words: int = 110,
    people: Sequence[str] = (),
) -> tuple[str, ...]:
    """Sum a story up at the briefing's length: what compose prints and export gives.

    A one-article story is told by its own lede, as its writer ordered it. Several articles
    are summed up from their most central sentences. Headlines are not weighed: a title
    that repeats the first sentence, or is page furniture, only pulls towards it.
    """
    del titles  # kept for callers; measured to hurt (README, bench/writeups.py)
    count = summary_length(len(articles))
    if len(articles) == 1:
        return lede(articles[0], vectoriser, count=count, avoid=avoid, max_words=max_words)
    return summarise(
        articles, vectoriser, count=count, avoid=avoid, max_words=max_words, people=people
    )


def lede(
    sentences: Sequence[str],
    vectoriser: SentenceVectoriser,
    *,
    count: int,
    avoid: Sequence[str] = (),
    max_words: int = 110,
) -> tuple[str, ...]:
    """Return the first usable sentences of an article, skipping what was already said."""
    found = candidates([sentences], min_words=LEDE_MIN_WORDS, attributed_quotes=True)
    if avoid and found:
        seen = _similarity(vectoriser.matrix([c.text for c in found]), vectoriser.matrix(avoid))
        found = [c for c, top in zip(found, seen.max(axis=1), strict=True) if top <= REDUNDANT]
    chosen: list[str] = []
    words = 0
    for item in found[:count]:
        if chosen and words + word_count(item.text) > max_words:
            break
        chosen.append(item.text)
        words += word_count(item.text)
    return tuple(chosen)


def whats_new(
    new_articles: Sequence[Sequence[str]],
    old_articles: Sequence[Sequence[str]],
    vectoriser: SentenceVectoriser,
    *,
    count: int = 2,
    headlines: Sequence[str] = (),
) -> tuple[str, ...]:
    """Choose sentences from the new articles that the old ones did not already say."""
    found = candidates(new_articles)
    if not found:
        return ()
    vectors = vectoriser.matrix([item.text for item in found])
    old_texts = [sentence for article in old_articles for sentence in article]
    old = vectoriser.matrix(old_texts)
    novelty = np.ones(len(found))
    if old.shape[0]:
        novelty = 1.0 - _similarity(vectors, old).max(axis=1)
    scores = _scores(found, vectors, vectoriser.matrix(list(headlines))) * novelty
    scores[novelty < 1.0 - ALREADY_REPORTED] = 0.0
    if not scores.any():
        return ()
    picked = _mmr(scores, vectors, count)
    return tuple(found[index].text for index in picked if scores[index] > 0)


def _quote_key(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


def _near_duplicate(first: set[str], second: set[str]) -> bool:
    if not first or not second:
        return first == second
    shared = len(first & second)
    return shared / min(len(first), len(second)) > 0.7


def _same_speaker(first: str, second: str) -> bool:
    """Treat "Shoigu" and "Sergei Shoigu" as one person."""
    one, other = set(_WORD.findall(first.lower())), set(_WORD.findall(second.lower()))
    return one <= other or other <= one


def _presentable_speaker(speaker: str) -> bool:
    """Tell whether a speaker can stand under a quote: a name, or a description of 2+ words.

    "— member" or "— officer" tells the reader nothing; "— a senior US official" does.
    """
    return bool(speaker) and (speaker[0].isupper() or len(speaker.split()) >= 2)


def pick_quotes(
    quotes: Sequence[Sequence[tuple[str, str | None]]],
    *,
    fresh: Sequence[bool] = (),
    limit: int = 3,
) -> list[PickedQuote]:
    """Choose up to `limit` attributed quotes, distinct speakers first, no near-repeats."""
    pool: list[tuple[float, PickedQuote, set[str]]] = []
    for article, article_quotes in enumerate(quotes):
        for text, speaker in article_quotes:
            words = word_count(text)
            speaker = (speaker or "").strip()
            if not _presentable_speaker(speaker) or not QUOTE_MIN_WORDS <= words <= QUOTE_MAX_WORDS:
                continue
            score = (1.0 if 10 <= words <= 45 else 0.5) + (
                0.5 if article < len(fresh) and fresh[article] else 0.0
            )
            pool.append((score, PickedQuote(text, speaker, article), _quote_key(text)))
    # A quote that several articles carry is a key quote.
    echoes = Counter(_key(quote.text) for _, quote, _ in pool)
    pool = [(score + 0.5 * (echoes[_key(q.text)] - 1), q, words) for score, q, words in pool]
    pool.sort(key=lambda item: (-item[0], item[1].article))
    chosen: list[tuple[PickedQuote, set[str]]] = []
    for distinct_only in (True, False):
        for _, quote, words_of in pool:
            if len(chosen) >= limit:
                break
            if any(_near_duplicate(words_of, kept) for _, kept in chosen):
                continue
            repeat = any(_same_speaker(quote.speaker, kept.speaker) for kept, _ in chosen)
            if distinct_only and repeat:
                continue
            chosen.append((quote, words_of))
    return [quote for quote, _ in chosen]
