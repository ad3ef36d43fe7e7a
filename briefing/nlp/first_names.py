"""Common given names, with the gender they usually carry.

Two uses, both cheap look-ups: a name that opens with a common given name ("Michelle
Rempel") is a person even when the model tags it ORG or GPE, and its given name tells which
of he/she can stand for it. The lists are short and hand-written (common English-language
given names, plus frequent ones in the news from elsewhere); names that are as often places,
companies or words ("Georgia", "Jordan", "Will") are left out of the person test, and names
given to both sexes are left out of the gender test.
"""

from __future__ import annotations

_MALE = """
aaron abdul abdullah adam adrian ahmed al alan albert alberto alejandro alexander alexandre
alexei alfonso alfred ali allan allen alvin amir anders andre andreas andrew andrei andres
andy angelo anthony antoine anton antonio arnold arthur ashton barack barry ben benjamin
benoit bernard bernie bill billy bob bobby boris brad bradley brandon brendan brent brett
brian bruce bryan byron calvin cameron carl carlos cedric chad charles charlie chester chuck
clarence claude clayton clint clyde colin conor connor corey craig curtis dale dallas damian
dan daniel danny darren darrell dave david dean dennis derek devin dick diego dimitri dmitry
don donald doug douglas duane dustin dwayne dwight earl ed eddie edgar eduardo edward edwin
elijah elliott emmanuel enrique eric erik ernest ethan eugene evan fernando francisco frank
franklin fred freddie frederick gabriel garrett gary gavin geoffrey george gerald gerard
gilbert giovanni glenn gordon graham greg gregory gustavo guy hank harold harry harvey hassan
hector henry herbert herman howard hugh hugo hussein ian igor isaac ivan jack jacob jacques
jake james jared jason javier jay jeff jeffrey jeremy jerome jerry jesse jim jimmy joe joel
joey johan john johnny jon jonathan jorge jose joseph josh joshua juan julian julio justin
karl keith ken kenneth kevin kurt kyle lance larry lawrence leo leon leonard leroy lewis liam
lloyd lorenzo louis luc lucas luigi luis luke malcolm manuel marc marcel marco marcus mario
mark martin marvin matt matthew maurice max maxime michael micheal miguel mike mitch
mitchell mohamed mohammad mohammed muhammad nathan neil nicholas nick nicolas nigel noah
norman oleg oliver omar oscar owen pablo patrick paul pedro peter phil philip philippe
pierre rafael ralph ramon randall randy raul ray raymond reginald ricardo richard rick ricky
rob robert roberto rod rodney roger roland ron ronald ross roy russell ryan salvador sam
samuel scott sean sebastian sergei sergey seth shane shaun shawn sidney simon stanley stefan
stephen steve steven stuart ted terry theodore thomas tim timothy todd tom tommy tony travis
trevor troy tyler vernon victor vincent vladimir wade walter warren wayne wesley william
willie xavier yuri zachary
""".split()

_FEMALE = """
abigail ada adele adriana agnes aileen alexandra alexis alice alicia alison allison alyssa
amanda amber amelia amy ana angela angelina angie anita ann anna anne annette annie
antonia april arlene audrey barbara beatrice becky belinda bernadette beth betsy betty
beverly bonnie brenda bridget brittany brooke camila candace carla carmen carol carole
caroline carolyn carrie catherine cathy cecilia charlene chelsea cheryl chloe christina
christine chrystia cindy claire clara claudia colleen connie constance cora courtney crystal
cynthia daisy danielle daphne darlene dawn debbie deborah debra denise diana diane
dolores donna doris dorothy edith eileen elaine eleanor elena elise eliza elizabeth ella
ellen elsa emily emma erica erika erin esther ethel eva evelyn faith fatima felicia fiona
frances francesca gabriela gabrielle gail gemma geraldine gina gladys gloria grace gretchen
gwen hannah harriet hazel heather heidi helen helena hilary hillary holly ida ingrid irene
iris isabel isabella isabelle jackie jacqueline jane janet janice jasmine jeanette
jeanine jeanne jennifer jenny jessica jill joan joann joanna joanne jodi josephine joy joyce
judith judy julia julie juliet june justine karen karin kate katherine kathleen kathryn
kathy katie katrina kay kayla kelli kimberly kirsten kristen kristin kristina krystal laura
lauren laurie leah lena lila lillian linda lisa lois loretta lorraine louise lucia lucy
lydia lynn mabel madeleine madeline mandy marcia margaret margarita maria marian marie
marilyn marina marion marjorie marlene martha mary maureen megan melanie melinda melissa
meredith mia michele michelle mildred miranda miriam molly monica monique nadia nancy
naomi natalia natalie natasha nicole nina nora norma olga olivia pamela patricia paula
pauline peggy penelope penny phyllis priscilla rachel rebecca regina renee rita roberta
rosa rosalind rose rosemary roxanne ruby ruth sabrina sally samantha sandra sara sarah
selena serena sharon sheila shelley sherry shirley silvia sofia sonia sophia sophie stacy
stella stephanie susan suzanne sylvia tamara tammy tanya tara teresa theresa tiffany tina
tracy ursula valerie vanessa vera veronica vicki victoria viola violet virginia vivian
wanda wendy whitney wilma yolanda yvonne zoe
""".split()

# Given names that as often name a place, a company or a thing ("Georgia", "Victoria
# Station", "Austin", "Jackson County"): they tell a gender, never that a name is a person's.
_ALSO_PLACES = frozenset(
    """dallas virginia victoria georgia florence charlotte austin jackson lincoln sidney
    chester clayton clarence hazel iris june ruby violet grace faith joy may carmen april
    regina marion vernon warren wayne franklin lloyd howard gordon herman ford""".split()
)

GIVEN_GENDER: dict[str, str] = {
    **dict.fromkeys(_MALE, "m"),
    **dict.fromkeys(_FEMALE, "f"),
}
PERSON_FIRST_NAMES = frozenset(GIVEN_GENDER) - _ALSO_PLACES


def given_name_gender(name: str) -> str | None:
    """Return "m" or "f" when a full name opens with a common given name of that gender."""
    words = name.split()
    if len(words) < 2:
        return None
    return GIVEN_GENDER.get(words[0].lower().rstrip("."))


def opens_with_given_name(name: str) -> bool:
    """Tell whether a name of two or three words opens with a common given name."""
    words = name.split()
    return (
        2 <= len(words) <= 3
        and words[0].lower() in PERSON_FIRST_NAMES
        and all(w[:1].isupper() for w in words)
    )
