"""The editor's desk from the shell: `briefing review`, `story …`, `approve`, `editors add`.

Each correction is stored with who made it (`--editor`, else $BRIEFING_EDITOR, else the
login name) and the open draft is rebuilt at once, as the desk in the web app does.
"""

from __future__ import annotations

import getpass
import os
import sys
from datetime import date
from typing import Annotated

import typer
from rich.table import Table

from briefing.cli.common import DAY_HELP, console, current_config, new_app, output, parse_day, plain
from briefing.config import Config
from briefing.errors import UsageError
from briefing.store.engine import Store

story_app = new_app("Correct a story of the draft (see `briefing review` for the ids).")
editors_app = new_app("Editor accounts: who may sign in to the desk.")
EDITOR_ENV = "BRIEFING_EDITOR"
EditorOption = Annotated[
    str | None,
    typer.Option("--editor", metavar="WHO", help=f"Who decides (default: ${EDITOR_ENV}, login)."),
]
DateOption = Annotated[
    str | None,
    typer.Option("--date", metavar="DATE", help=f"{DAY_HELP}; default: the open draft's day."),
]


def _who(editor: str | None) -> str:
    return editor or os.environ.get(EDITOR_ENV) or f"{getpass.getuser()} (command line)"


def _setup(day: str | None) -> tuple[Config, Store, date]:
    from briefing.stages.review import open_day

    config = current_config()
    store = Store(config.store.url)
    return config, store, parse_day(day, config.tz) if day else open_day(store, config)


def _redraft(config: Config, store: Store, day: date) -> None:
    from briefing.stages.review import refresh_draft

    if refresh_draft(store, config, day) is not None:
        console.print(f"draft of {day} rebuilt")


def review_command(
    day: DateOption = None,
    articles: Annotated[
        bool, typer.Option("--articles", "-a", help="List each story's articles and quotes.")
    ] = False,
) -> None:
    """List the draft's stories with their ids, as the edition will show them."""
    from briefing.stages.review import edition, load_draft

    config, store, when = _setup(day)
    draft, row = load_draft(config, when), edition(store, when)
    status = row.status if row else "draft"
    if row and row.approved_by:
        status += f" by {row.approved_by}"
    table = Table("#", "section", "story id", "headline", "outlets", "articles")
    sections = [(s.title, s.stories) for s in draft.sections] + [("Also noted", draft.also_noted)]
    number = 0
    for title, stories in sections:
        for story in stories:
            number += 1
            shown = getattr(story, "headline", "") or story.label
            cells = (number, title, story.id, shown, story.outlet_count, story.article_count)
            table.add_row(*map(plain, cells))
    output.print(f"Edition of {when}: {status}")
    output.print(table)
    if articles:
        _print_articles(store, [s.id for _t, stories in sections for s in stories], draft)


def _print_articles(store: Store, story_ids: list[str], draft: object) -> None:
    from sqlalchemy import select

    from briefing.store.models import Article, StoryArticle

    with store.session() as session:
        rows = session.execute(
            select(StoryArticle.story_id, Article.id, Article.source, Article.title)
            .join(Article, Article.id == StoryArticle.article_id)
            .where(StoryArticle.story_id.in_(story_ids))
            .order_by(Article.published_at)
        ).all()
    table = Table("story id", "article id", "source", "title")
    for row in sorted(rows, key=lambda r: story_ids.index(r[0])):
        table.add_row(*map(plain, row))
    output.print(table)
    quotes = Table("story id", "quote", "speaker")
    for story in (*draft.stories, *draft.also_noted):  # type: ignore[attr-defined]
        for quote in story.quotes:
            quotes.add_row(*map(plain, (story.id, quote.text, quote.speaker)))
    output.print(quotes)


@story_app.command("rename")
def rename_command(
    story: Annotated[str, typer.Argument(metavar="STORY", help="Story id.")],
    headline: Annotated[str, typer.Argument(metavar="HEADLINE", help="'' for the machine's.")],
    kicker: Annotated[str, typer.Option(metavar="TEXT", help="Line above the headline.")] = "",
    day: DateOption = None,
    editor: EditorOption = None,
) -> None:
    """Give a story a headline (and kicker); it keeps them in later editions."""
    from briefing.stages.corrections import rename

    config, store, when = _setup(day)
    rename(store, story, headline, kicker, _who(editor))
    _redraft(config, store, when)


@story_app.command("merge")
def merge_command(
    story: Annotated[str, typer.Argument(metavar="STORY", help="The story merged away.")],
    into: Annotated[str, typer.Argument(metavar="INTO", help="The story that stays.")],
    day: DateOption = None,
    editor: EditorOption = None,
) -> None:
    """Merge STORY into INTO, for good: later grouping keeps them together."""
    from briefing.stages.corrections import merge

    config, store, when = _setup(day)
    merge(store, story, into, _who(editor))
    _redraft(config, store, when)


@story_app.command("move")
def move_command(
    article: Annotated[str, typer.Argument(metavar="ARTICLE", help="Article id (review -a).")],
    to: Annotated[str, typer.Option("--to", metavar="STORY", help="Story id, or 'new'.")],
    day: DateOption = None,
    editor: EditorOption = None,
) -> None:
    """Move an article to another story, or to a new one (--to new)."""
    from briefing.stages.corrections import move_article

    config, store, when = _setup(day)
    target = move_article(store, article, None if to == "new" else to, _who(editor))
    output.print(f"article {article} is now in story {target}")
    _redraft(config, store, when)


@story_app.command("drop")
def drop_command(
    story: Annotated[str, typer.Argument(metavar="STORY", help="Story id.")],
    undo: Annotated[bool, typer.Option("--undo", help="Bring the story back.")] = False,
    day: DateOption = None,
    editor: EditorOption = None,
) -> None:
    """Leave a story out of this edition (--undo brings it back)."""
    from briefing.stages.corrections import drop

    config, store, when = _setup(day)
    drop(store, when, story, _who(editor), dropped=not undo)
    _redraft(config, store, when)


@story_app.command("lead")
def lead_command(
    story: Annotated[str, typer.Argument(metavar="STORY", help="Story id.")],
    article: Annotated[str, typer.Argument(metavar="ARTICLE", help="Article id (review -a).")],
    day: DateOption = None,
    editor: EditorOption = None,
) -> None:
    """Mark an article as the story's lead: listed first under the story."""
    from briefing.stages.corrections import set_lead

    config, store, when = _setup(day)
    set_lead(store, story, article, _who(editor))
    _redraft(config, store, when)


@story_app.command("order")
def order_command(
    story: Annotated[str, typer.Argument(metavar="STORY", help="Story id.")],
    where: Annotated[str, typer.Argument(metavar="WHERE", help="up, down, or a section title.")],
    day: DateOption = None,
    editor: EditorOption = None,
) -> None:
    """Move a story up or down in this edition, or into another section."""
    from briefing.stages.corrections import reorder, set_section
    from briefing.stages.review import load_draft

    config, store, when = _setup(day)
    draft = load_draft(config, when)
    order = [s.id for s in (*draft.stories, *draft.also_noted)]
    if where in ("up", "down"):
        reorder(store, when, story, -1 if where == "up" else 1, order, _who(editor))
    else:
        titles = [section.title for section in draft.sections]
        set_section(store, when, story, where, titles, _who(editor))
    _redraft(config, store, when)


@story_app.command("quote")
def quote_command(
    story: Annotated[str, typer.Argument(metavar="STORY", help="Story id.")],
    text: Annotated[str, typer.Argument(metavar="TEXT", help="The quote (review -a).")],
    speaker: Annotated[str | None, typer.Option(metavar="NAME", help="Who said it.")] = None,
    drop: Annotated[bool, typer.Option("--drop", help="Leave the quote out.")] = False,
    day: DateOption = None,
    editor: EditorOption = None,
) -> None:
    """Fix a quote's speaker (--speaker) or drop it (--drop), wherever it appears."""
    from briefing.stages.corrections import fix_quote

    if drop == (speaker is not None):
        raise UsageError("give either --speaker NAME or --drop")
    config, store, when = _setup(day)
    fix_quote(store, story, text, None if drop else speaker, _who(editor))
    _redraft(config, store, when)


@story_app.command("outlet")
def outlet_command(
    source: Annotated[str, typer.Argument(metavar="SOURCE", help="Source name (as configured).")],
    name: Annotated[str, typer.Argument(metavar="NAME", help="Name readers see ('' resets).")],
    day: DateOption = None,
    editor: EditorOption = None,
) -> None:
    """Set the name readers see for a source, from now on."""
    from briefing.stages.corrections import rename_outlet

    config, store, when = _setup(day)
    rename_outlet(store, source, name, _who(editor))
    _redraft(config, store, when)


@story_app.command("note")
def note_command(
    text: Annotated[str, typer.Argument(metavar="TEXT", help="The note ('' removes it).")],
    day: DateOption = None,
    editor: EditorOption = None,
) -> None:
    """Set the editor's note printed at the top of this edition."""
    from briefing.stages.corrections import set_note

    config, store, when = _setup(day)
    set_note(store, when, text, _who(editor))
    _redraft(config, store, when)


def approve_command(
    day: DateOption = None,
    send_now: Annotated[bool, typer.Option("--send-now", help="Send it now.")] = False,
    editor: EditorOption = None,
) -> None:
    """Approve the draft: it becomes the edition that goes out at the daily time."""
    from briefing.stages.approval import approve

    config, store, when = _setup(day)
    result = approve(store, config, when, _who(editor), send_now=send_now, wait=60)
    output.print(f"approved the edition of {when}")
    if result.delivery is not None:
        sent, failed = len(result.delivery.sent), len(result.delivery.failed)
        output.print(f"sent to {sent} subscriber(s); {failed} failed")


@editors_app.command("add")
def editors_add(
    email: Annotated[str, typer.Argument(metavar="EMAIL", help="An address under [[editors]].")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Set an editor's password (argon2id hash in the store; the config lists editors)."""
    from briefing.stages.editors import set_password

    config = current_config()
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    address = set_password(Store(config.store.url), config, email, password)
    output.print(f"password set for {address}")


@editors_app.command("list")
def editors_list() -> None:
    """List the editors of the config, and whether each can sign in."""
    from briefing.stages.editors import account_stamp

    config = current_config()
    store = Store(config.store.url)
    table = Table("editor", "can sign in")
    for editor in config.editors:
        table.add_row(plain(editor.email), plain("yes" if account_stamp(store, editor.email) else
                                                 "no: `briefing editors add`"))  # fmt: skip
    output.print(table)
