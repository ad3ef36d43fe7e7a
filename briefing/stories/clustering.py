"""Turn articles into weighted term vectors and group them through a k-nearest-neighbour graph."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

import networkx as nx
import numpy as np
from scipy import sparse

BLOCKS = ("words", "bigrams", "entities")
ENGLISH = "en"
# Scripts without spaces between words (and Korean, whose particles cling to the noun:
# 서울에서, 서울은): compared by character 2-grams (words block) and 3-grams (bigrams block).
CHARACTER_NGRAM_LANGUAGES = frozenset({"ja", "zh", "ko"})
_CJK_RUN = re.compile(
    "[\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]+"
)

_TOKEN = re.compile(r"[^\W_]+(?:['’.\-][^\W_]+)*")
# A compact stop list: the words that carry no event identity in news prose.
STOP_WORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it its
    itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them themselves
    then there these they this those through to too under until up very was we were what when where
    which while who whom why will with would you your yours yourself yourselves said says say told
    according one two new year years day days week weeks last first like get got may might must
    shall us per since around across among via yet still even ago back made make news reported
    report reports mr mrs ms""".split()
)


@dataclass(frozen=True, slots=True)
class ArticleFeatures:
    """What grouping needs to know about one article: plain data, no NLP objects."""

    id: str
    source: str
    title: str
    text: str
    published_at: datetime | None
    entities: tuple[tuple[str, str, int], ...] = ()  # (canonical, label, count)
    key_phrases: tuple[str, ...] = ()
    language: str = ENGLISH  # base ISO 639-1 code; stories never mix languages


@dataclass(frozen=True, slots=True)
class GroupingParams:
    """Tuning knobs; defaults sit on the plateau measured by bench/stream.py."""

    neighbours: int = 5  # k of the k-nearest-neighbour graph
    # Louvain resolution per unit of the graph's total edge weight. Modularity's penalty for
    # joining two groups is resolution * K_a * K_b / 2m; scaling the resolution with m makes
    # that penalty depend on the two groups' own degrees only, so a day of 10,000 articles,
    # a whole batch and the few stories one run re-groups all cut the same way.
    resolution: float = 0.03
    edge_power: float = 2.0  # sharpen similarities so strong links dominate weak ones
    min_similarity: float = 0.15  # edges weaker than this are dropped
    word_weight: float = 0.5
    bigram_weight: float = 0.2
    entity_weight: float = 0.3
    title_repeat: int = 2  # title words count this many times over
    text_chars: int = 4000  # only the lead of long articles is read
    decay_days: float = 1.0  # beyond a day apart, similarity decays with this half-life...
    decay_floor: float = 0.3  # ...down to this share, since stories do continue for weeks
    close_after_days: float = 7.0  # a story quiet this long is no longer open
    profile_terms: int = 40  # bound on each block of a story profile
    related_similarity: float = 0.2  # stories with centroids this close are "related"
    max_related: int = 3
    block_rows: int = 1024  # rows per sparse product block...
    block_cells: int = 8_000_000  # ...fewer when a block would hold more similarities than this
    seed: int = 7


def tokens(text: str) -> list[str]:
    """Split text into lower-case word tokens, possessives and plurals folded."""
    out = []
    for raw in _TOKEN.findall(text.lower()):
        word = raw.removesuffix("'s").removesuffix("’s")
        if len(word) > 4 and word[-1] == "s" and word[-2] not in "siu":
            word = word[:-1]  # crude plural folding: earthquakes ~ earthquake
        out.append(word)
    return out


def article_counts(article: ArticleFeatures, params: GroupingParams) -> dict[str, Counter]:
    """Count words, bigrams and entities of one article (title words repeated).

    English terms are bare; any other language's terms are prefixed with its code ("fr:otan"),
    so articles of different languages share no feature and never group together.
    """
    if article.language != ENGLISH:
        return _foreign_counts(article, params)
    words: Counter = Counter()
    bigrams: Counter = Counter()
    body = article.text[: params.text_chars]
    for part, repeat in ((article.title, params.title_repeat), (body, 1)):
        toks = tokens(part)
        keep = [t not in STOP_WORDS for t in toks]
        for _ in range(repeat):
            words.update(t for t, k in zip(toks, keep, strict=True) if k and not t.isdigit())
            bigrams.update(
                f"{toks[i]} {toks[i + 1]}" for i in range(len(toks) - 1) if keep[i] and keep[i + 1]
            )
    entities: Counter = Counter()
    for canonical, _label, count in article.entities:
        entities[canonical.lower()] += max(1, count)
    return {"words": words, "bigrams": bigrams, "entities": entities}


def _foreign_counts(article: ArticleFeatures, params: GroupingParams) -> dict[str, Counter]:
    """Count the terms of a non-English article, each prefixed with the language code."""
    prefix = f"{article.language}:"
    words: Counter = Counter()
    bigrams: Counter = Counter()
    body = article.text[: params.text_chars]
    stop = stop_words(article.language)
    by_characters = article.language in CHARACTER_NGRAM_LANGUAGES
    for part, repeat in ((article.title, params.title_repeat), (body, 1)):
        if by_characters:
            two, three = character_ngrams(part)
            # Latin-script names and numbers inside CJK text still count as words.
            latin = [t for t in _TOKEN.findall(_CJK_RUN.sub(" ", part.lower())) if len(t) > 1]
            part_words = [*two, *(t for t in latin if not t.isdigit())]
            part_bigrams = three
        else:
            toks = [t for t in _TOKEN.findall(part.lower()) if len(t) > 1]
            keep = [t not in stop for t in toks]
            part_words = [t for t, k in zip(toks, keep, strict=True) if k and not t.isdigit()]
            part_bigrams = [
                f"{toks[i]} {toks[i + 1]}" for i in range(len(toks) - 1) if keep[i] and keep[i + 1]
            ]
        for _ in range(repeat):
            words.update(prefix + t for t in part_words)
            bigrams.update(prefix + t for t in part_bigrams)
    entities: Counter = Counter()
    for canonical, _label, count in article.entities:
        entities[prefix + canonical.lower()] += max(1, count)
    return {"words": words, "bigrams": bigrams, "entities": entities}


def character_ngrams(text: str) -> tuple[list[str], list[str]]:
    """Return the character 2-grams and 3-grams of each CJK (or Hangul) run of text."""
    two: list[str] = []
    three: list[str] = []
    for run in _CJK_RUN.findall(text):
        two += [run[i : i + 2] for i in range(len(run) - 1)]
        three += [run[i : i + 3] for i in range(len(run) - 2)]
    return two, three


@cache
def stop_words(language: str) -> frozenset[str]:
    """Return spaCy's stop list for a language (empty when spaCy has none)."""
    try:
        from spacy.util import get_lang_class

        return frozenset(get_lang_class(language).Defaults.stop_words)
    except Exception:  # a language spaCy does not know: TF-IDF alone discounts common words
        return frozenset()


def block_weights(params: GroupingParams) -> dict[str, float]:
    """Return each block's share of the combined similarity."""
    raw = {
        "words": params.word_weight,
        "bigrams": params.bigram_weight,
        "entities": params.entity_weight,
    }
    total = sum(raw.values()) or 1.0
    return {name: value / total for name, value in raw.items()}


def term_matrix(docs: Sequence[Mapping[str, float]], vocab: dict[str, int]) -> sparse.csr_matrix:
    """Put term weights into a sparse row per document, growing vocab as terms appear."""
    indptr, indices, data = [0], [], []
    for doc in docs:
        for term, value in doc.items():
            indices.append(vocab.setdefault(term, len(vocab)))
            data.append(value)
        indptr.append(len(indices))
    return sparse.csr_matrix(
        (np.asarray(data, dtype=np.float32), np.asarray(indices, dtype=np.int64), indptr),
        shape=(len(docs), len(vocab)),
    )


def row_normalised(matrix: sparse.csr_matrix) -> sparse.csr_matrix:
    """Scale every non-empty row to unit length."""
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sparse.csr_matrix(sparse.diags(1.0 / norms) @ matrix, dtype=np.float32)


def tfidf(counts: sparse.csr_matrix, other_df: np.ndarray, other_docs: int) -> sparse.csr_matrix:
    """Weight counts by sublinear TF times smoothed IDF and normalise each row."""
    df = np.bincount(counts.indices, minlength=counts.shape[1]) + other_df
    n_docs = counts.shape[0] + other_docs
    idf = np.log((1.0 + n_docs) / (1.0 + df)) + 1.0
    weighted = counts.copy()
    weighted.data = (1.0 + np.log(weighted.data)) * idf[weighted.indices]
    return row_normalised(weighted)


def stacked(blocks: Mapping[str, sparse.csr_matrix], weights: Mapping[str, float]):
    """Join row-normalised blocks so a row product is the weighted sum of block cosines."""
    return sparse.hstack(
        [math.sqrt(weights[name]) * blocks[name] for name in BLOCKS], format="csr"
    ).astype(np.float32)


def as_utc(moment: datetime) -> datetime:
    """Read a naive datetime as UTC, so naive and aware times can be compared."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def day_numbers(times: Sequence[datetime | None]) -> np.ndarray:
    """Return each time in days since the epoch, NaN where unknown."""
    return np.array(
        [as_utc(t).timestamp() / 86400.0 if t else np.nan for t in times], dtype=np.float64
    )


def time_decay(gap_days: np.ndarray, params: GroupingParams) -> np.ndarray:
    """Return the similarity factor for gaps in days: 1 within a day, then decaying to a floor."""
    excess = np.clip(np.nan_to_num(np.abs(gap_days), nan=0.0) - 1.0, 0.0, None)
    half_lives = excess / max(params.decay_days, 1e-9)
    return params.decay_floor + (1.0 - params.decay_floor) * np.power(0.5, half_lives)


def top_neighbours(
    sims: sparse.csr_matrix,
    row_days: np.ndarray,
    col_days: np.ndarray,
    k: int,
    params: GroupingParams,
    self_offset: int | None = None,
) -> list[list[tuple[int, float]]]:
    """Pick each row's k best columns after time decay (decay only ever lowers a score)."""
    out = []
    for row in range(sims.shape[0]):
        lo, hi = sims.indptr[row], sims.indptr[row + 1]
        cols, vals = sims.indices[lo:hi], sims.data[lo:hi]
        if self_offset is not None:
            other = cols != self_offset + row
            cols, vals = cols[other], vals[other]
        if len(vals) > 3 * k:
            keep = np.argpartition(-vals, 3 * k)[: 3 * k]
            cols, vals = cols[keep], vals[keep]
        vals = vals * time_decay(row_days[row] - col_days[cols], params)
        best = np.lexsort((cols, -vals))[:k]  # ties broken by column, for determinism
        out.append([(int(cols[i]), float(vals[i])) for i in best])
    return out


def nearest(
    left: sparse.csr_matrix,
    right: sparse.csr_matrix,
    left_days: np.ndarray,
    right_days: np.ndarray,
    k: int,
    params: GroupingParams,
    same: bool = False,
) -> list[list[tuple[int, float]]]:
    """Find each left row's k most similar right rows by blocked sparse products."""
    transposed = right.T.tocsr()
    found: list[list[tuple[int, float]]] = []
    # News vocabularies overlap, so a block of similarities is nearly dense: bound its size.
    rows = max(16, min(params.block_rows, params.block_cells // max(1, right.shape[0])))
    for start in range(0, left.shape[0], rows):
        sims = (left[start : start + rows] @ transposed).tocsr()
        row_days = left_days[start : start + rows]
        offset = start if same else None
        found.extend(top_neighbours(sims, row_days, right_days, k, params, offset))
    return found


def knn_edges(
    articles: sparse.csr_matrix,
    days: np.ndarray,
    params: GroupingParams,
    stories: sparse.csr_matrix | None = None,
    story_days: np.ndarray | None = None,
) -> dict[tuple[int, int], float]:
    """Link each article to its k most similar articles or stories, each story to k articles.

    Node numbers: articles first, then stories. Stories never link to each other, so two open
    stories are only drawn together through today's articles.
    """
    n_articles = articles.shape[0]
    if stories is None or story_days is None:
        stories, story_days = articles[:0], days[:0]
    everything = sparse.vstack([articles, stories], format="csr")
    all_days = np.concatenate([days, story_days])
    edges: dict[tuple[int, int], float] = {}
    k = min(params.neighbours, everything.shape[0] - 1)
    if k <= 0:
        return edges
    found = nearest(articles, everything, days, all_days, k, params, same=True)
    if stories.shape[0]:
        found += nearest(stories, articles, story_days, days, min(k, n_articles), params)
    for row, neighbours in enumerate(found):
        for col, weight in neighbours:
            if weight >= params.min_similarity:
                key = (min(row, col), max(row, col))
                edges[key] = max(edges.get(key, 0.0), weight)
    return edges


def communities(
    n_nodes: int, edges: Mapping[tuple[int, int], float], params: GroupingParams
) -> list[list[int]]:
    """Partition nodes by Louvain with a resolution proportional to the total edge weight."""
    graph = nx.Graph()
    graph.add_nodes_from(range(n_nodes))
    graph.add_weighted_edges_from(
        (a, b, w**params.edge_power) for (a, b), w in sorted(edges.items())
    )
    # Modularity's penalty for merging two groups shrinks as the graph grows (its resolution
    # limit): a day of 10,000 articles would merge sibling events that 500 keep apart, and a
    # run that re-groups a few stories would split what a whole batch keeps together.
    # A resolution proportional to the total weight makes the penalty local (see GroupingParams).
    total = graph.size(weight="weight")
    if total <= 0:
        return [[node] for node in range(n_nodes)]
    found = nx.community.louvain_communities(
        graph, weight="weight", resolution=params.resolution * total, seed=params.seed
    )
    return sorted((sorted(c) for c in found), key=lambda c: c[0])


def summed_rows(block: sparse.csr_matrix, groups: Sequence[Sequence[int]]) -> sparse.csr_matrix:
    """Sum the rows of each group of row indices into one row per group."""
    rows = [r for r, members in enumerate(groups) for _ in members]
    cols = [i for members in groups for i in members]
    indicator = sparse.csr_matrix(
        (np.ones(len(cols), dtype=np.float32), (rows, cols)), shape=(len(groups), block.shape[0])
    )
    return (indicator @ block).tocsr()


def row_terms(matrix: sparse.csr_matrix, row: int, terms: Sequence[str]) -> dict[str, float]:
    """Read one sparse row as term -> weight."""
    lo, hi = matrix.indptr[row], matrix.indptr[row + 1]
    pairs = zip(matrix.indices[lo:hi], matrix.data[lo:hi], strict=True)
    return {terms[t]: float(v) for t, v in pairs}


def merged_vector(
    old: Mapping[str, float],
    old_weight: float,
    added: Mapping[str, float],
    n_added: int,
    limit: int,
) -> dict[str, float]:
    """Average a mean profile vector (worth old_weight articles) with new article vectors.

    The mean of unit vectors is kept unnormalised: its product with an article is then the
    article's average similarity to the story's articles (average linkage), on the same scale
    as a similarity between two articles.
    """
    total = old_weight + n_added
    blend = {t: w * old_weight / total for t, w in old.items()}
    for term, weight in added.items():
        blend[term] = blend.get(term, 0.0) + weight / total
    top = sorted(blend.items(), key=lambda item: (-item[1], item[0]))[:limit]
    return {t: round(w, 5) for t, w in top}


def normalised(vec: Mapping[str, float]) -> dict[str, float]:
    """Scale a vector to unit length (empty stays empty)."""
    norm = math.sqrt(sum(v * v for v in vec.values()))
    return {t: v / norm for t, v in vec.items()} if norm else {}
