"""A synthetic mixed-language day: two stories in each of five languages, one English story.

Invented text, written for these tests. Each story has articles from two outlets, so it
reaches the briefing's main list; the Korean chip story and the English one share the
Latin-script names Samsung and NATO, so they are linked across languages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from briefing.store.articles import ArticleRecord

DAY_START = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Fixture:
    key: str  # language-story-outlet
    language: str
    story: str
    title: str
    text: str


def _f(language: str, story: str, outlet: str, title: str, text: str) -> Fixture:
    return Fixture(f"{language}-{story}-{outlet}", language, story, title, text)


ARTICLES: tuple[Fixture, ...] = (
    _f(
        "ja",
        "quake",
        "asahi",
        "北海道で震度6強の地震、津波注意報を発表",
        "北海道東部で2日未明、震度6強の地震があった。気象庁は津波注意報を発表した。"
        "釧路市では建物の倒壊が確認され、消防が救助活動を続けている。地震の規模を示す"
        "マグニチュードは6.8と推定される。気象庁は今後1週間、同程度の地震に注意するよう呼びかけた。",
    ),
    _f(
        "ja",
        "quake",
        "mainichi",
        "北海道東部で震度6強　釧路市で建物倒壊、津波注意報",
        "2日未明に北海道東部を震源とする地震があり、釧路市で震度6強を観測した。気象庁によると"
        "マグニチュードは6.8。津波注意報が出され、釧路市では建物の倒壊で救助活動が続く。"
        "気象庁は同程度の地震への注意を呼びかけている。",
    ),
    _f(
        "ja",
        "rates",
        "nikkei",
        "日銀、政策金利を0.75%に引き上げ　物価上昇続く",
        "日本銀行は2日の金融政策決定会合で、政策金利を0.75%に引き上げることを決めた。"
        "物価上昇が続き、賃金の伸びも確認されたためだ。総裁は記者会見で追加の利上げに含みを持たせた。"
        "円相場は対ドルで上昇した。",
    ),
    _f(
        "ja",
        "rates",
        "yomiuri",
        "日銀が利上げ決定、政策金利0.75%　賃金上昇を確認",
        "日本銀行は金融政策決定会合で政策金利を0.75%へ引き上げた。賃金の伸びと物価上昇が"
        "続いていると判断した。総裁は会見で、さらなる利上げの可能性を示した。発表後、円相場は上昇した。",
    ),
    _f(
        "zh",
        "flood",
        "xinhua",
        "广东暴雨引发洪水　数万人紧急转移",
        "连日暴雨导致广东省北部多地发生洪水，当地政府已紧急转移数万名居民。"
        "韶关市部分道路被洪水冲毁，救援队伍正在抢修。气象部门预计暴雨将持续到周末。",
    ),
    _f(
        "zh",
        "flood",
        "people",
        "广东北部洪水：韶关数万居民紧急转移",
        "受持续暴雨影响，广东北部韶关市发生严重洪水，数万居民被紧急转移。"
        "洪水冲毁多条道路，救援队伍连夜抢修。气象部门表示暴雨将持续到周末。",
    ),
    _f(
        "zh",
        "rocket",
        "cctv",
        "长征火箭成功发射三颗卫星",
        "长征系列运载火箭今天在酒泉卫星发射中心成功发射，将三颗遥感卫星送入预定轨道。"
        "这是该型火箭今年第五次发射任务，卫星将用于国土资源勘查。",
    ),
    _f(
        "zh",
        "rocket",
        "chinadaily",
        "酒泉发射中心：长征火箭将三颗遥感卫星送入轨道",
        "酒泉卫星发射中心今天用长征运载火箭成功发射三颗遥感卫星，卫星顺利进入预定轨道。"
        "该型火箭今年已执行五次发射任务，卫星将服务国土资源勘查。",
    ),
    _f(
        "ko",
        "chips",
        "yonhap",
        "Samsung 반도체 공장 증설… NATO 회원국 공급 계약",
        "삼성전자(Samsung)가 평택 반도체 공장을 증설한다고 2일 밝혔다. 회사는 NATO 회원국 "
        "방산업체와 반도체 공급 계약을 맺었다고 설명했다. 증설 투자 규모는 20조 원이다. "
        "Samsung은 내년 하반기 양산을 시작할 계획이다.",
    ),
    _f(
        "ko",
        "chips",
        "hankyoreh",
        "Samsung, 평택 반도체 공장 20조 원 증설… NATO 방산 공급",
        "Samsung 삼성전자는 평택 반도체 공장 증설에 20조 원을 투자한다. NATO 회원국 방산업체에 "
        "반도체를 공급하는 계약도 체결했다. 양산은 내년 하반기에 시작된다.",
    ),
    _f(
        "ko",
        "election",
        "kbs",
        "부산시장 보궐선거 투표율 역대 최고",
        "부산시장 보궐선거 투표율이 오후 6시 기준 역대 최고를 기록했다고 선거관리위원회가 밝혔다. "
        "유권자들은 아침부터 투표소 앞에 줄을 섰다. 개표는 오후 8시에 시작된다.",
    ),
    _f(
        "ko",
        "election",
        "mbc",
        "부산시장 보궐선거, 투표율 역대 최고 기록",
        "선거관리위원회에 따르면 부산시장 보궐선거 투표율이 역대 최고를 기록했다. "
        "투표소마다 유권자들이 길게 줄을 섰으며, 개표는 오후 8시부터 진행된다.",
    ),
    _f(
        "fr",
        "strike",
        "lemonde",
        "Grève à la SNCF : trafic très perturbé en Île-de-France",
        "La grève des cheminots de la SNCF perturbe fortement le trafic ferroviaire en "
        "Île-de-France ce lundi. Les syndicats réclament une hausse des salaires. "
        "Le ministre des Transports, Philippe Tabarot, appelle à la reprise du dialogue : "
        "« Il faut reprendre le dialogue avec les syndicats dès cette semaine », a-t-il déclaré.",
    ),
    _f(
        "fr",
        "strike",
        "figaro",
        "SNCF : la grève des cheminots paralyse l'Île-de-France",
        "Le trafic des trains reste très perturbé en Île-de-France à cause de la grève des "
        "cheminots de la SNCF. Les syndicats demandent des hausses de salaires. "
        "Philippe Tabarot, ministre des Transports, demande la reprise du dialogue.",
    ),
    _f(
        "de",
        "storm",
        "spiegel",
        "Sturmtief legt Bahnverkehr in Norddeutschland lahm",
        "Ein schweres Sturmtief hat am Montag den Bahnverkehr in Norddeutschland weitgehend "
        "lahmgelegt. Umgestürzte Bäume blockierten zahlreiche Strecken zwischen Hamburg und "
        "Bremen. Der Deutsche Wetterdienst warnt vor weiteren Orkanböen.",
    ),
    _f(
        "de",
        "storm",
        "zeit",
        "Orkanböen: Bahnverkehr zwischen Hamburg und Bremen eingestellt",
        "Wegen des Sturmtiefs ist der Bahnverkehr in Norddeutschland am Montag weitgehend "
        "eingestellt. Umgestürzte Bäume blockieren Strecken zwischen Hamburg und Bremen. "
        "Der Deutsche Wetterdienst warnt vor neuen Orkanböen.",
    ),
    _f(
        "en",
        "chips",
        "reuters",
        "Samsung to expand Pyeongtaek chip plant, signs NATO supply deal",
        "Samsung Electronics said on Monday it would spend 20 trillion won expanding its "
        "Pyeongtaek semiconductor plant in South Korea. The company also signed a deal to "
        "supply chips to defence firms in NATO member states. Samsung plans to start mass "
        "production in the second half of next year.",
    ),
    _f(
        "en",
        "chips",
        "apnews",
        "Samsung plans $14 billion chip plant expansion, NATO defence deal",
        "Samsung Electronics will expand its Pyeongtaek semiconductor plant south of Seoul, "
        "the South Korean company said on Monday. Samsung also agreed to supply chips to "
        "defence companies in NATO countries, with mass production due next year.",
    ),
)


def records() -> list[ArticleRecord]:
    """Return the fixtures as article records, an hour apart from DAY_START."""
    return [
        ArticleRecord(
            url=f"https://{a.key.split('-')[2]}.example/{a.key}",
            source=a.key.split("-")[2],
            title=a.title,
            text=a.text,
            published_at=DAY_START + timedelta(hours=1 + n % 6),
            language=a.language,
            id=a.key,
        )
        for n, a in enumerate(ARTICLES)
    ]


def expected_stories() -> set[frozenset[str]]:
    """Return the stories the fixtures should form: one per language and story key."""
    found: dict[tuple[str, str], set[str]] = {}
    for a in ARTICLES:
        found.setdefault((a.language, a.story), set()).add(a.key)
    return {frozenset(ids) for ids in found.values()}
