"""Two Indonesian earthquakes a day apart: the same kind of news, two incidents, two stories."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from briefing.stories.tracking import ArticleFeatures

START = datetime(2024, 5, 6, tzinfo=UTC)


def quake(
    id_: str, day: int, hour: int, province: str, town: str, magnitude: str, extra: str = ""
) -> ArticleFeatures:
    """An Indonesian earthquake report: the same kind of news, told apart by place and people."""
    official = {"Aceh": "Teuku Rizal", "West Java": "Dedi Mulyana"}[province]
    text = (
        f"A magnitude {magnitude} earthquake struck {province} province on Monday, damaging "
        f"houses and a mosque in {town}. {official}, head of the {province} disaster agency, "
        f"said rescuers were searching collapsed buildings in {town}. The meteorology agency "
        f"said the quake was shallow and posed no tsunami threat. {extra}"
    )
    entities = (
        (province, "GPE", 3),
        (town, "GPE", 2),
        (official, "PERSON", 1),
        ("Indonesia", "GPE", 1),
    )
    return ArticleFeatures(
        id=id_,
        source=id_.split("-")[0],
        title=f"Magnitude {magnitude} earthquake hits {town} in {province}",
        text=text,
        published_at=START + timedelta(days=day, hours=hour),
        entities=entities,
        key_phrases=("earthquake", f"{province} disaster agency", "collapsed buildings"),
    )


ACEH = [
    quake("ant-aceh", 0, 3, "Aceh", "Bireuen", "6.1"),
    quake("jp-aceh", 0, 5, "Aceh", "Bireuen", "6.1", "Schools in Bireuen were closed."),
    quake("kyo-aceh", 0, 9, "Aceh", "Bireuen", "6.1", "Power was cut across Bireuen."),
    quake("ant-aceh2", 1, 4, "Aceh", "Bireuen", "6.1", "The death toll in Bireuen rose to 12."),
]
JAVA = [
    quake("ant-java", 1, 2, "West Java", "Cianjur", "5.6"),
    quake("jp-java", 1, 6, "West Java", "Cianjur", "5.6", "Schools in Cianjur were closed."),
    quake("kyo-java", 1, 8, "West Java", "Cianjur", "5.6", "Landslides blocked roads to Cianjur."),
]
EVERYTHING = [*ACEH, *JAVA]
EXPECTED = {frozenset(a.id for a in ACEH), frozenset(a.id for a in JAVA)}
