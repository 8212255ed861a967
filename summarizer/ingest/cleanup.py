"""Article text made clean whatever site it came from: invisible characters out, spaces made plain, and lines of
page furniture removed (skip links, cookie and consent banners, newsletter and subscription promos, related-link
teasers, photo captions and credits, share and comment widgets, advertising labels).

A rule removes a line only when the whole line is page furniture: each pattern must match the entire line, so a
sentence of reporting that mentions cookies, newsletters or photographs is kept. A "Read more" or "Sign up here."
glued to the end of a real paragraph is cut off, and the paragraph kept. Every removal is counted, so that
``--verbose`` can report it.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

# Every format character (Unicode category Cf: zero-width spaces and joiners, word joiner, byte-order mark, soft
# hyphen, bidirectional controls, invisible tag characters) except the prepended concatenation marks
# (U+0600-0605, U+06DD, U+070F, U+0890-0891, U+08E2, U+110BD, U+110CD), which are drawn as visible signs.
# Listed rather than computed from unicodedata, which would cost a scan of every code point at import;
# tests/ingest/test_cleanup.py checks the list against the running Python's Unicode data.
INVISIBLE = re.compile(
    "[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
    "\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]"
)
# Space separators other than the plain space (no-break, thin, figure, ideographic…) and tabs.
_SPACES = re.compile("[ \t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
# Lines this long are paragraphs of reporting; the longest furniture (a consent banner) stays well below.
_LONGEST_FURNITURE = 1000


def _rule(*alternatives: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{a})" for a in alternatives), re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class _Rule:
    """Patterns for one kind of furniture, tried only on lines holding one of ``needs`` (casefolded): the
    patterns that search a whole line for a phrase cost far more than a substring test."""

    kind: str
    pattern: re.Pattern[str]
    needs: tuple[str, ...] = ()


# Words that make up share bars ("Share", "FacebookTwitterEmail", "Share on X | Copy link").
_SHARE = (
    r"share(?: this(?: article| story| page| post)?| (?:on|via|to) \w+)?|tweet|e-?mail|print|copy(?: the)? link|"
    r"link copied|copied|save(?: (?:article|story|for later))?|bookmark|facebook|twitter|x|linkedin|whatsapp|"
    r"telegram|reddit|pinterest|messenger|flipboard|threads|bluesky|mastodon|pocket|sms"
)
_CONSENT_BUTTON = (
    r"(?:accept|reject|decline|allow|deny|refuse)(?: all)?(?: cookies)?|i (?:accept|agree)|agree(?: and close)?|"
    r"got it|manage (?:cookies|preferences|options|settings|consent)|"
    r"(?:cookie|privacy|consent) (?:settings|preferences|policy|notice|choices)|more options|"
    r"customi[sz]e(?: settings)?|save (?:and exit|preferences|settings|choices)|(?:strictly )?necessary cookies only|"
    r"your privacy(?: choices)?|we value your privacy|do not sell(?: or share)? my personal information|"
    r"privacy policy|terms (?:of (?:use|service)|and conditions)"
)
_SKIP = (
    r"(?:skip|jump)(?: to)?(?: the)?(?: main| primary| site)? (?:content|navigation|nav|menu|search|footer|article|"
    r"links|sections?|site index|accessibility help|comments)"
)

# The kind names the removal in the count.
_RULES: list[_Rule] = [
    _Rule("navigation", _rule(
        rf"{_SKIP}(?:\W*{_SKIP})*(?: links)?",
        r"(?:back to top|scroll to top|top of page)\W*",
        r"menu|main menu|open menu|close menu|toggle navigation|search|close|home|sections|sign in|log in|login|"
        r"log out|my account",
    )),
    _Rule("cookie banner", _rule(
        rf"(?:{_CONSENT_BUTTON})(?:[\s|·•,]*(?:{_CONSENT_BUTTON}))*",
        # "By clicking Accept, you agree…", but not a quote such as "By continuing the war, you accept…".
        r"by (?:continuing to (?:use|browse)|clicking|using|browsing|scrolling)\b.{0,80}\b(?:site|website|page|"
        r"service|app|accept|agree|ok|button|cookies?)\b.{0,80}\byou (?:agree|consent|accept)\b.*",
    )),
    _Rule("cookie banner", _rule(
        # A banner says what the cookies are for; a quote about biscuits ("we use cookies to calm…") does not.
        r"(?=.*\b(?:experience|browsing|personali[sz]\w*|analytics|advertising|ads|consent|preferences|device|"
        r"(?:web)?site|similar technologies|traffic)\b)"
        r".{0,400}\b(?:we|this (?:web)?site|our (?:web)?site|our partners)(?: and our (?:partners|vendors))?"
        r" (?:use|uses|place|store|may use|are using)\b.{0,60}\bcookies?\b.*",
        r".{0,400}\bcookies?\b.{0,160}\b(?:you (?:agree|consent|accept)|your consent|to our use|cookie (?:policy|"
        r"settings|preferences|notice))\b.*",
    ), needs=("cookie",)),
    _Rule("newsletter promo", _rule(
        r"(?:sign up|subscribe|register|join)(?: (?:now|today|here|for free|free))?[.!]?",
        r"(?:sign up|subscribe|register|get|receive|join|want|enter your e-?mail|never miss|don't miss|"
        r"stay (?:informed|up to date))\b(?=.*\b(?:newsletters?|inbox|e-?mail alerts?|news alerts?)\b).{0,250}",
        r"already an? (?:subscriber|member)\b.{0,60}",
        r"(?:subscribe|log in|sign in|register) (?:now )?to (?:continue|read|unlock|keep reading)\b.{0,80}",
        r"this (?:article|story|content) is (?:only )?(?:for|available to|exclusive to) (?:paying )?"
        r"(?:subscribers|members)\b.{0,60}",
        r"support (?:our|independent) journalism\b.{0,160}",
        r"(?:enter )?your e-?mail(?: address)?|e-?mail address",
        r"thank you for (?:signing up|subscribing)\b.{0,80}",
        r"by (?:signing up|subscribing|registering)\b.{0,200}",
        r"(?:download|get) (?:our|the) (?:free )?app\b.{0,80}",
    )),
    _Rule("teaser", _rule(
        r"also read:.*",
        r"read more:.*",
        r"(?:related|related (?:stories|articles|content|coverage|topics|news|links|reading)|more (?:stories|news|"
        r"on this story|like this|from [\w ]{1,30})|recommended(?: for you| stories| reading)?|most (?:read|popular|"
        r"viewed|shared)|you (?:may|might) (?:also )?(?:like|be interested in)|see also|trending(?: now| stories)?|"
        r"top stories|latest (?:news|stories)|read (?:more|next)|up next|what to read next|continue reading|"
        r"show more|load more|view more|see more)\s*[:\u203a\u00bb>\u2192]*",
    )),
    _Rule("photo caption", _rule(
        r"(?:photo(?:graph)?s?|image|picture|pictured|illustration|graphic|file photo|photo credit|credit|caption)"
        r"\s*:\s*.{0,400}",
        r"image (?:source|caption)\s*[:,]\s*.{0,400}",
    )),
    _Rule("photo caption", _rule(
        # A caption ending with its credit: "… on Friday. Photograph: Name/Agency", "… (AP Photo/Name)".
        # A credit by name has a slash ("Photo by Name/Agency"): "images by satellite show…" is a sentence.
        r".{0,400}?\b(?:photo(?:graph)?|image|picture|credit)s?(?:\s*:\s*[^.!?:]{1,80}|\s+by\s+[^.!?:/]{1,60}/"
        r"[^.!?:]{1,60})",
        r".{0,400}?\((?:[^()]{0,40}\s)?(?:photo(?:graph)?|pictures?|images?)\s*(?:/|by |via )[^()]{1,80}\)\.?",
        # "(AP Photo)", "(File photo)"; not "(satellite images)".
        r".{0,400}?\((?:(?-i:[A-Z]{2,})|file) (?:photo(?:graph)?|pictures?|images?)\)\.?",
        r"(?:.{0,400}?(?:/|\bvia |, ?|: ?|\())?\s*(?:getty images|shutterstock|alamy(?: stock photo)?)\)?\.?",
    ), needs=("photo", "image", "picture", "credit", "getty", "shutterstock", "alamy")),
    _Rule("share widget", _rule(
        rf"(?:{_SHARE})(?:[\s|·•,:/]*(?:{_SHARE}))*",
        r"follow (?:us|@\w+) on .{1,60}",
    )),
    _Rule("reading time", _rule(
        r"\d+\s+min(?:ute)?s?\s+read",
        r"listen to (?:this )?(?:article|story)\b.{0,30}|listen \d+ min(?:ute)?s?|\d+ min(?:ute)?s? listen",
    )),
    _Rule("comment widget", _rule(
        r"(?:\d+ )?comments?(?: \(\d+\))?|\d+ repl(?:y|ies)|reply|report abuse",
        r"(?:add|post|leave|write|view|show|hide|read|see|load)(?: (?:a|all|the|your|more|\d+))* "
        r"(?:comments?|reply)",
        r"join the (?:conversation|discussion|debate)|be the first to comment",
        r"comments? (?:are|is) (?:now )?(?:closed|open)\b.{0,60}",
        r"your email address will not be published\..*",
        r"required fields are marked \*",
    )),
    _Rule("advertisement", _rule(
        r"-?\s*(?:advertisement|advert|sponsored(?: content| links?)?|paid (?:content|partnership)|ad|ads|"
        r"promoted)\s*-?",
        r"(?:story|article) continues (?:below|after)\b.{0,30}|continue reading (?:below|the main story)|"
        r"scroll to continue(?: with content)?",
    )),
    _Rule("footer", _rule(r"(?:©|\(c\))\s*.{0,160}", r"copyright\s*(?:©|\(c\))?\s*\d{4}\b.{0,160}")),
    _Rule("fragment", _rule(
        r"[-\u2013\u2014\u2022*]",
        # A truncated embed fragment such as "Let me…": a few words cut off by an ellipsis.
        r"(?:\S+\s+){0,2}\S+(?:…|\.\.\.)",
    )),
]  # fmt: skip

# Link labels glued to the end of a line: a headline teaser ("…Read more") or a promo after a sentence ("… Sign
# up here."). Capitals required: the label is a button, where a sentence would say "read more" in lower case.
_TAILS: list[tuple[str, re.Pattern[str]]] = [
    ("teaser", re.compile(r"\s*(?:…|\.\.\.)?\s*(?:Read more|READ MORE|Continue reading|Read the full story)\W*$")),
    ("newsletter promo", re.compile(r"(?:^|(?<=[.!?]))\s*(?:Sign up|Subscribe|Register)(?: here| now| today)?[.!]?$")),
]
_LONGEST_TAIL = 40
_SENTENCE_END = (".", "!", "?", '"', "'", "\u201d", "\u2019", ")")
_PROMO_WORDS = re.compile(
    r"\b(?:newsletters?|inbox|e-?mail|subscrib\w*|sign up|free|alerts?|updates|want more|more like this|"
    r"top stories|stories like)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Cleaned:
    """Clean text, and what was taken out of it."""

    text: str
    removed: Counter[str] = field(default_factory=Counter)
    """Lines removed, by kind ("cookie banner", "teaser", …)."""
    trimmed: int = 0
    """Lines kept with a link label ("Read more", "Sign up here.") cut off their end."""
    invisible: int = 0
    """Invisible and format characters removed."""

    def summary(self) -> str:
        """One line for the log: "removed 3 boilerplate line(s) (2 cookie banner, 1 teaser); removed 5 invisible
        character(s)"; "nothing removed" when clean-up took nothing out."""
        parts = []
        if self.removed:
            kinds = ", ".join(f"{n} {kind}" for kind, n in self.removed.most_common())
            parts.append(f"removed {sum(self.removed.values())} boilerplate line(s) ({kinds})")
        if self.trimmed:
            parts.append(f"cut a link label off the end of {self.trimmed} line(s)")
        if self.invisible:
            parts.append(f"removed {self.invisible} invisible character(s)")
        return "; ".join(parts) or "nothing removed"


def _furniture(line: str) -> str | None:
    """The kind of page furniture ``line`` is, or None when it is text."""
    if len(line) > _LONGEST_FURNITURE:
        return None
    folded = line.casefold()
    for rule in _RULES:
        if (not rule.needs or any(n in folded for n in rule.needs)) and rule.pattern.fullmatch(line):
            return rule.kind
    return None


def is_furniture(line: str) -> bool:
    """Whether ``line`` (one line of text) is page furniture that clean-up removes whole."""
    return _furniture(_SPACES.sub(" ", INVISIBLE.sub("", line)).strip()) is not None


def _untail(line: str) -> tuple[str, str] | None:
    """``line`` with a glued link label cut off and the label's kind; "" as the line when nothing worth keeping
    is left (a headline or promo before the label). None when the line ends in no label."""
    for kind, tail in _TAILS:
        # Only the end of the line can hold the label: searching the rest would cost a scan of every paragraph.
        match = tail.search(line, max(0, len(line) - _LONGEST_TAIL))
        if match is None:
            continue
        head = line[: match.start()].strip()
        # A full sentence before the label is reporting the page glued to it; a headline is the teaser itself.
        keep = head.endswith(_SENTENCE_END) and not _PROMO_WORDS.search(head) and _furniture(head) is None
        return (head if keep else ""), kind
    return None


def clean_text(text: str) -> Cleaned:
    """NFC, invisible characters removed, one space between words, one blank line between paragraphs, no lines
    of page furniture; with a count of each removal."""
    # Invisible characters go first: one between a letter and its accent would keep NFC from joining them.
    text, invisible = INVISIBLE.subn("", text)
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    removed: Counter[str] = Counter()
    trimmed = 0
    paragraphs: list[str] = []
    for raw in text.splitlines():
        line = _SPACES.sub(" ", raw).strip()
        if not line:
            continue
        kind = _furniture(line)
        if kind is None and (untailed := _untail(line)) is not None:
            line, tail_kind = untailed
            if line:
                trimmed += 1
            else:
                kind = tail_kind
        if kind is None:
            paragraphs.append(line)
        else:
            removed[kind] += 1
    return Cleaned("\n\n".join(paragraphs), removed, trimmed, invisible)


def normalise_text(text: str) -> str:
    """The clean text alone (see :func:`clean_text`)."""
    return clean_text(text).text
