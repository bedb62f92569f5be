"""Page → the article's blocks of text, without navigation, footers or teasers.

A fact counts only when the article states it (FACTS.md, "What counts as the
page"). Sidebars of 相关推荐 teasers name other cities' figures, and in
bendibao's templates the sidebar can come *before* the article in source
order, so teasers are removed as DOM subtrees, found by their heading words
and their shape (a run of link-led items), never by cutting the text at the
first marker.

Two inputs:

* HTML: per-host profiles in ``sites.toml`` name the article element; unknown
  hosts get a scored main block (text density, link density).
* Plain-text captures (tag-stripped pages): navigation and footer lines are
  still present; footer blocks, teaser runs and menu lines are recognised by
  their words and shapes.
"""
from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from fnmatch import fnmatch
from functools import lru_cache
from importlib import resources
from typing import Callable, Iterable, Iterator
from urllib.parse import urlsplit

from lxml import etree
from lxml.cssselect import CSSSelector

# Words that head a teaser list. Matched against a whole short heading, after
# decoration (【】[] ▍ > etc.) is stripped.
TEASER_HEADINGS = re.compile(
    r"^(?:相关|热门|热点|精彩|最新|推荐|猜你|大家|延伸|本地宝|其他相关|友情|看了|你可能|相关阅读|更多)"
    r"(?:推荐|阅读|文章|新闻|资讯|稿件|链接|专题|都在搜|都在看|喜欢|感兴趣|网站|还看了|又看|关注|问答|政策|服务|热搜|排行|内容)*"
    r"(?:推荐|阅读|文章|新闻|资讯|稿件|链接|专题|都在搜|都在看|喜欢|感兴趣|网站|还看了|又看|关注|问答|政策|热搜|排行|内容)$"
)
_DECOR = re.compile(r"[\s【】\[\]〖〗▍▌|>»›:：·•\-—_]+")

# Tokens of class/id names that mark furniture. Tokens, not substrings:
# "content" must not be dropped because it contains "nt".
BOILER_TOKENS = frozenset(
    "nav navbar navigation menu mainnav subnav footer foot bottom header head topbar breadcrumb crumb crumbs "
    "position location weizhi sidebar side aside share sharing social bdshare related relate xiangguan "
    "recommend tuijian xgtj rank ranking copyright toolbar tool tools login search sousuo advert ad ads banner "
    "qrcode ewm erweima friendlink flink links pager pagination page-nav comment comments gotop backtop "
    "print dayin close guanbi skip wza accessibility barrier trout hidden".split()
)
# Tags whose whole subtree is never article text.
JUNK_TAGS = ("script", "style", "noscript", "template", "iframe", "svg", "canvas", "select", "option",
             "button", "input", "textarea", "object", "embed", "head", "map", "audio", "video")
FURNITURE_TAGS = ("nav", "footer", "aside")
BLOCK_TAGS = frozenset(
    "p div section article main li dt dd ul ol dl h1 h2 h3 h4 h5 h6 table tr tbody thead tfoot blockquote "
    "pre center form fieldset header address figure figcaption caption hr br".split()
)
HEADING_TAGS = frozenset("h1 h2 h3 h4 h5 h6".split())

# Lines of a plain-text capture that start the site footer.
FOOTER_LINE = re.compile(
    r"ICP备|公网安备|网站标识码|版权所有|Copyright|©|主办单位|承办单位|本区域为网站底部|技术支持[:：]|网站地图|"
    r"建议使用IE|分辨率浏览|联系我们\s*\||手机访问|首页\s*顶部"
)
BULLET = re.compile(r"^\s*[•·●◆■▪◇○\*\-]\s*")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_SENTENCE_END = re.compile(r"[。！？!?；;：:]$")


@dataclass(frozen=True, slots=True)
class Block:
    """One line of the article: a heading, a paragraph, a list item or a table row."""

    text: str
    kind: str = "para"  # heading | para | item | row
    header: tuple[str, ...] = ()  # for rows: the table's column labels


@dataclass(slots=True)
class Document:
    title: str
    blocks: list[Block]
    host: str | None = None
    site_name: str | None = None
    # Lines outside the article that still tell who published it (footer
    # 主办单位, breadcrumb): read for the region, never for figures.
    publisher: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(b.text for b in self.blocks)


# --------------------------------------------------------------------------- profiles


@dataclass(frozen=True, slots=True)
class SiteProfile:
    name: str
    hosts: tuple[str, ...]
    main: tuple[CSSSelector, ...]
    drop: tuple[CSSSelector, ...]

    def matches(self, host: str) -> bool:
        return any(host == h or (h.startswith("*.") and (fnmatch(host, h) or host == h[2:])) for h in self.hosts)


@lru_cache(maxsize=1)
def site_profiles() -> tuple[SiteProfile, ...]:
    """The profiles of ``sites.toml``, compiled once per process."""
    data = tomllib.loads(resources.files(__package__).joinpath("sites.toml").read_text("utf-8"))
    return tuple(
        SiteProfile(
            name=s["name"],
            hosts=tuple(s["hosts"]),
            main=tuple(CSSSelector(sel) for sel in s.get("main", [])),
            drop=tuple(CSSSelector(sel) for sel in s.get("drop", [])),
        )
        for s in data["site"]
    )


def profile_for(host: str | None) -> SiteProfile | None:
    if not host:
        return None
    host = host.lower().split(":")[0]
    return next((p for p in site_profiles() if p.matches(host)), None)


# --------------------------------------------------------------------------- helpers


_WS = re.compile(r"[\s\u3000\u00a0\u2002\u2003\u200b]+")
_CAMEL = re.compile(r"([a-z])([A-Z])")
_NON_WORD = re.compile(r"[^a-zA-Z0-9]+")


def squash(text: str) -> str:
    """Collapse runs of white space (including U+3000 and nbsp) to one space."""
    return _WS.sub(" ", text).strip()


@lru_cache(maxsize=4096)
def _tokens(value: str) -> frozenset[str]:
    """'leftSide main-menu' → {left, side, main, menu}: class names as words (templates repeat them)."""
    return frozenset(t for t in _NON_WORD.split(_CAMEL.sub(r"\1 \2", value).lower()) if t)


def _is_furniture(el: etree._Element) -> bool:
    if el.tag in FURNITURE_TAGS:
        return True
    attrs = (el.get("class") or "") + " " + (el.get("id") or "")
    if attrs.strip() and _tokens(attrs) & BOILER_TOKENS:
        return True
    style = (el.get("style") or "").replace(" ", "").lower()
    return "display:none" in style or el.get("aria-hidden") == "true" or el.get("hidden") is not None


def _maybe_furniture(root: etree._Element) -> list[etree._Element]:
    """The descendants that can be furniture (see _is_furniture), in document order.

    A Python walk testing the attribute dict: the XPath union of these steps
    (``descendant::*[@class or …] | descendant::nav | …``) cost 1.7× as much,
    most of it sorting the union back into document order.
    """
    out = []
    for el in root.iter(etree.Element):
        if el.tag in FURNITURE_TAGS:
            out.append(el)
            continue
        attrs = el.attrib
        if attrs and ("class" in attrs or "id" in attrs or "style" in attrs or "aria-hidden" in attrs
                      or "hidden" in attrs):
            out.append(el)
    if out and out[0] is root:
        del out[0]
    return out
_STRING = etree.XPath("string()")


def text_of(el: etree._Element) -> str:
    """``"".join(el.itertext())``, done in C: it is asked for every block of every page, several times."""
    return str(_STRING(el))


def _text_len(el: etree._Element) -> int:
    """Characters of text, white space not counted."""
    return len("".join(text_of(el).split()))


def _link_len(el: etree._Element, measured: dict[etree._Element, int] | None = None) -> int:
    """Characters of link text; ``measured`` keeps each link's length across calls on nested elements."""
    if measured is None:
        return sum(len(squash(text_of(a))) for a in el.iter("a"))
    total = 0
    for a in el.iter("a"):
        n = measured.get(a)
        if n is None:
            n = measured[a] = len(squash(text_of(a)))
        total += n
    return total


def _is_teaser_heading(text: str) -> bool:
    text = _DECOR.sub("", text)
    return 2 <= len(text) <= 10 and TEASER_HEADINGS.match(text) is not None


def _is_link_led(el: etree._Element) -> bool:
    """An item whose first words are a link: a teaser's title, maybe with a summary."""
    first = next(el.iter("a"), None)
    if first is None:
        return False
    title = squash(text_of(first))
    return len(title) >= 4 and 0 <= squash(text_of(el)).find(title) <= 12


def _is_teaser_list(el: etree._Element) -> bool:
    """A run of ≥2 link-led items, or a block that is mostly links."""
    items = [c for c in el if isinstance(c.tag, str)]
    if el.tag in ("ul", "ol", "dl") or len(items) >= 2:
        if el.tag not in ("ul", "ol", "dl") and len(items) == 1:
            return False
        led = [c for c in items if c.tag not in HEADING_TAGS and _is_link_led(c)]
        if len(led) >= 2 and len(led) >= 0.7 * len([c for c in items if _text_len(c)]):
            return True
    total = _text_len(el)
    return total > 0 and _link_len(el) >= 0.6 * total and len(list(el.iter("a"))) >= 3


def _teaser_root(marker: etree._Element) -> etree._Element:
    """Climb from a teaser heading to the largest ancestor that is only teasers."""
    node = marker
    while True:
        parent = node.getparent()
        if parent is None or parent.tag in ("body", "html"):
            return node
        others = [c for c in parent if isinstance(c.tag, str) and c is not node and _text_len(c)]
        if others and all(_is_teaser_list(c) or _is_teaser_heading(squash(text_of(c)))
                          for c in others):
            node = parent
            continue
        if not others:
            node = parent
            continue
        return node


def _remove(el: etree._Element) -> None:
    """Drop an element but keep its tail text, which belongs to the parent."""
    parent = el.getparent()
    if parent is None:
        return
    if el.tail and el.tail.strip():
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + el.tail
        else:
            parent.text = (parent.text or "") + el.tail
    parent.remove(el)


_TEASER_WORDS = ("推荐", "相关", "热门", "热点", "大家", "猜你", "延伸", "阅读", "精彩", "最新", "其他", "友情", "看了",
                 "你可能", "更多", "本地宝")
_TEASER_WORD = re.compile("|".join(_TEASER_WORDS))


def _teaser_word_holders(root: etree._Element) -> dict[int, etree._Element]:
    """Elements with a text node naming a teaser word (XPath's ``*[text()[contains(., w)]]``), and their parents.

    One Python walk with one regex per text node: the XPath, sixteen contains() copying every text node
    sixteen times, cost six times as much (0.17 ms of a page's 2 ms).
    """
    found: dict[int, etree._Element] = {}
    for el in root.iter():
        if el is root:
            continue  # descendants only, as .//* selects
        if el.text and isinstance(el.tag, str) and _TEASER_WORD.search(el.text):  # a comment's text is no text()
            found[id(el)] = el
        if el.tail and _TEASER_WORD.search(el.tail):
            parent = el.getparent()  # a tail is a text node of the parent
            if parent is not None and parent is not root:
                found[id(parent)] = parent
    # the marker may be the parent of the element holding the words (<h3><span>相关推荐</span></h3>)
    for el in list(found.values()):
        parent = el.getparent()
        if parent is not None:
            found.setdefault(id(parent), parent)
    return found


def drop_teasers(root: etree._Element) -> int:
    """Remove every teaser block (heading + its link list) as a subtree; returns how many."""
    candidates = _teaser_word_holders(root)
    markers = [
        el for el in root.iter()
        if id(el) in candidates and isinstance(el.tag, str) and el.tag not in ("html", "body")
        and len(el) <= 3 and _is_teaser_heading(squash(text_of(el)))
    ]
    removed = 0
    for marker in markers:
        if marker.getparent() is None or not _attached(marker, root):
            continue
        node = _teaser_root(marker)
        # the list usually follows the heading as a sibling
        sib = node.getnext()
        while sib is not None and (_is_teaser_list(sib) or not _text_len(sib)):
            nxt = sib.getnext()
            _remove(sib)
            sib = nxt
        _remove(node)
        removed += 1
    return removed


def _attached(el: etree._Element, root: etree._Element) -> bool:
    while el is not None:
        if el is root:
            return True
        el = el.getparent()
    return False


# --------------------------------------------------------------------------- HTML


_PARSER = etree.HTMLParser(remove_comments=True, remove_pis=True, no_network=True, recover=True)


def parse_html(text: str) -> etree._Element:
    """A plain lxml tree (not lxml.html's element classes: their per-node lookup costs a third of the time)."""
    text = re.sub(r"^\s*<\?xml[^>]*>", "", text)
    try:
        root = etree.fromstring(text or "<html></html>", _PARSER)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):
        root = None
    return root if root is not None else etree.fromstring("<html><body></body></html>", _PARSER)


def _meta(root: etree._Element, name: str) -> str | None:
    for el in root.iter("meta"):
        if (el.get("name") or el.get("property") or "").lower() == name.lower():
            value = (el.get("content") or "").strip()
            if value:
                return value
    return None


def page_host(root: etree._Element, url: str | None) -> str | None:
    """Host of the page: its URL, else what a saved page says about itself."""
    candidates = [url]
    candidates += [el.get("href") for el in root.iter("link") if (el.get("rel") or "").lower() == "canonical"]
    candidates += [_meta(root, "og:url")]
    for c in candidates:
        if c and "://" in c:
            host = urlsplit(c).hostname
            if host:
                return host.lower()
    domain = _meta(root, "SiteDomain")
    return domain.lower().strip("/") if domain else None


_PUBLISHER = re.compile(r"主办|版权|承办|单位")
_BODY_TEXT = etree.XPath("string(//body)")


def _publisher_lines(root: etree._Element) -> list[str]:
    """主办单位：潍坊市医疗保障局 — who publishes the page, read from the page's last lines
    before the footer is dropped (footers sit at the bottom; one string, no tree walk)."""
    tail = str(_BODY_TEXT(root))[-3000:]
    return [line for line in _lines_of(tail) if _PUBLISHER.search(line) and len(line) <= 80][:6]


def _lines_of(text: str) -> list[str]:
    return [line for line in (squash(raw) for raw in text.splitlines()) if line]


def _prose_weight(el: etree._Element) -> int:
    """How much sentence-like text an element holds: its count of Chinese clause punctuation."""
    return _count_of(text_of(el), "，。；：、")


def _count_of(text: str, marks: str) -> int:
    """How many of these characters a long text holds: str.count in C, seven times faster on a page's text
    than a regex's list of matches (on a short one the regex wins)."""
    return sum(map(text.count, marks))


_CLAUSE_MARKS = re.compile(r"[，。；：、,]")


_LAYOUT_CELL_CHILD = etree.XPath("./tr/td//p | ./tr/td//div | ./tr/td//table | ./tbody/tr/td//p | "
                                 "./tbody/tr/td//div | ./tbody/tr/td//table")


def is_layout_table(table: etree._Element) -> bool:
    """A table that lays out the page (its cells hold paragraphs, blocks, tables) rather than data rows."""
    if _LAYOUT_CELL_CHILD(table):
        return True
    return any(len(text_of(cell)) > 300 for cell in table.iter("td", "th"))


def _inside_table(el: etree._Element) -> bool:
    node = el.getparent()
    for _ in range(6):
        if node is None:
            return False
        if node.tag in ("td", "th"):
            return True
        node = node.getparent()
    return False


def _in_layout_table(el: etree._Element, layout_table: Callable[[etree._Element], bool] = is_layout_table
                     ) -> bool:
    node = el.getparent()
    while node is not None and node.tag != "table":
        node = node.getparent()
    return node is not None and layout_table(node)


def _score_candidates(body: etree._Element) -> etree._Element:
    """Readability-style choice of the article element: prose, not links."""
    scores: dict[etree._Element, float] = {}
    has_tables = body.find(".//table") is not None
    layout: dict[etree._Element, bool] = {}

    def layout_table(table: etree._Element) -> bool:
        if table not in layout:
            layout[table] = is_layout_table(table)
        return layout[table]

    for el in body.iter("p", "pre", "li", "div", "span", "section", "font", "table", "td"):
        tag = el.tag  # a new str on each access: read once
        if tag == "table" and layout_table(el):
            continue  # its cells are weighed like any container
        if tag == "td" and not (el.text or "").strip() and len(el) == 0:
            continue
        if tag in ("p", "pre", "li", "table", "td"):
            if has_tables and tag != "table" and _inside_table(el) and not _in_layout_table(el, layout_table):
                continue  # a data table is weighed once, as a whole
            own = text_of(el)
        else:
            own = (el.text or "") + "".join((c.tail or "") for c in el)
        length = len("".join(own.split()))
        if length < 10:
            continue
        links = sum(len(text_of(a)) for a in el.iter("a")) if tag not in ("div", "table") else 0
        weight = length + 8 * len(_CLAUSE_MARKS.findall(own)) - 2 * links
        if weight <= 0:
            continue
        parent = el.getparent()
        if parent is None:
            continue
        scores[parent] = scores.get(parent, 0.0) + weight
        grand = parent.getparent()
        if grand is not None:
            scores[grand] = scores.get(grand, 0.0) + weight / 2
    if not scores:
        return body
    # link density only for the few best: computing it for every container is quadratic
    top = sorted(scores, key=lambda e: scores[e], reverse=True)[:6]
    measured: dict[etree._Element, int] = {}  # the best are often nested: each link measured once
    for el in top:
        total = _text_len(el) or 1
        scores[el] *= 1 - min(_link_len(el, measured) / total, 0.9)
    return max(top, key=lambda e: scores[e])


def _profile_main(root: etree._Element, profile: SiteProfile | None) -> etree._Element | None:
    """The article element the site's profile names, if the page has it."""
    for sel in profile.main if profile else ():
        found = [el for el in sel(root) if _text_len(el) >= 20]
        if found:
            return max(found, key=_text_len)
    return None


def _guessed_main(root: etree._Element) -> etree._Element:
    body = root.find("body")
    return _score_candidates(body if body is not None else root)


def _cell_text(cell: etree._Element) -> str:
    return squash(" ".join(t for t in cell.itertext()))


def _table_blocks(table: etree._Element) -> Iterator[Block]:
    header: tuple[str, ...] = ()
    for tr in table.iter("tr"):
        if tr.getparent() is not None and _closest_table(tr) is not table:
            continue
        cells = [c for c in tr if isinstance(c.tag, str) and c.tag in ("td", "th")]
        texts = tuple(_cell_text(c) for c in cells)
        if not any(texts):
            continue
        is_head = not header and (all(c.tag == "th" for c in cells) or not any(re.search(r"\d", t) for t in texts))
        if is_head:
            header = texts
            yield Block(" | ".join(texts), "row", ())
            continue
        yield Block(" | ".join(texts), "row", header)


def _closest_table(el: etree._Element) -> etree._Element | None:
    node = el.getparent()
    while node is not None and node.tag != "table":
        node = node.getparent()
    return node


def html_blocks(main: etree._Element) -> list[Block]:
    """Blocks in reading order; <br> and block tags break lines, tables become rows."""
    blocks: list[Block] = []
    buf: list[str] = []
    kind = ["para"]

    def flush() -> None:
        text = squash("".join(buf))
        buf.clear()
        if text:
            blocks.append(Block(text, kind[0]))
        kind[0] = "para"

    def walk(el: etree._Element) -> None:
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag == "table" and not is_layout_table(el):
            flush()
            blocks.extend(_table_blocks(el))
            if el.tail:
                buf.append(el.tail)
            return
        block = tag in BLOCK_TAGS
        if block:
            flush()
            if tag in HEADING_TAGS:
                kind[0] = "heading"
            elif tag in ("li", "dd", "dt"):
                kind[0] = "item"
        if tag == "br":
            flush()
        elif el.text and tag:
            buf.append(el.text)
        for child in el:
            walk(child)
        if block:
            flush()
        if el.tail:
            buf.append(el.tail)

    walk(main)
    flush()
    return [_mark_heading(b) for b in blocks]


def _mark_heading(block: Block) -> Block:
    if block.kind == "para" and looks_like_heading(block.text):
        return Block(block.text, "heading")
    return block


# looks_like_heading's patterns, compiled once: it reads every block of every page (35 calls a page)
_NUMBERED = re.compile(r"^(?:[一二三四五六七八九十]+[、.．]|[（(][一二三四五六七八九十\d]+[)）])")
_CHINESE_ORDINAL = re.compile(r"^[一二三四五六七八九十]+、")
_ONLY_DATE_CHARS = re.compile(r"[\d\s年月日:：\-./]+")
_STAMP = re.compile(r"\d{4}[-./]\d{1,2}[-./]\d{1,2}|(?:发布|更新|成文|印发)(?:时间|日期)|浏览次数|来源[:：]")
_SECTION_NUMBER = re.compile(r"^(?:[一二三四五六七八九十]+[、.．]|[（(][一二三四五六七八九十\d]+[)）]|"
                             r"第[一二三四五六七八九十\d]+[章节条部分])")
_FULL_STOP = re.compile(r"[。；;]")
_ANY_PUNCTUATION = re.compile(r"[，。；,;!?！？]")
_ANY_DIGIT = re.compile(r"\d")


def looks_like_heading(line: str) -> bool:
    """Short numbered or unpunctuated lines head a section: 四、咨询电话 / 缴费时间 / （三）职工大额医疗互助。"""
    numbered = _NUMBERED.match(line)
    if numbered and line.endswith("。") and len(line) <= 24 and line.count("。") == 1 and not _ANY_DIGIT.search(line):
        line = line[:-1]
    if len(line) > 30 or _SENTENCE_END.search(line) and not _CHINESE_ORDINAL.match(line):
        return False
    if not _CJK.search(line) or _ONLY_DATE_CHARS.fullmatch(line):
        return False
    if _STAMP.search(line):
        return False  # 发布时间：2025-01-20 is a stamp, not a section, and its year is not the figures' year
    if _SECTION_NUMBER.match(line):
        return len(line) <= 30 and not _FULL_STOP.search(line)
    return len(line) <= 20 and not _ANY_PUNCTUATION.search(line)


def html_document(text: str, url: str | None = None, need_publisher: bool = True) -> Document:
    root = parse_html(text)
    title = squash(root.findtext(".//title") or "")
    host = page_host(root, url)
    site_name = _meta(root, "SiteName")
    article_title = _meta(root, "ArticleTitle")
    publisher = _publisher_lines(root) if need_publisher else []
    etree.strip_elements(root, *JUNK_TAGS, with_tail=False)
    etree.strip_elements(root, etree.Comment, etree.ProcessingInstruction, with_tail=False)
    h1 = next((squash(text_of(h)) for h in root.iter("h1") if _text_len(h)), None)
    profile = profile_for(host)
    main = _profile_main(root, profile)
    if main is None:
        # Furniture is removed by class only when we must guess the main block
        # (a profile's main element is trusted as it is), and never a
        # container holding most of the page's prose: a template may wrap the
        # article in an oddly named column.
        body = root.find("body")
        total = _prose_weight(body if body is not None else root) or 1
        for el in _maybe_furniture(root):
            if el.tag not in ("html", "body") and _is_furniture(el) and _attached(el, root) \
                    and _prose_weight(el) < 0.6 * total:
                _remove(el)
        main = _guessed_main(root)
    if profile:
        for sel in profile.drop:
            for el in sel(main):
                _remove(el)
    drop_teasers(main)
    for el in [e for e in _maybe_furniture(main) if _is_furniture(e)]:
        if _attached(el, main):
            _remove(el)
    blocks = html_blocks(main)
    heading = article_title or h1 or title
    if heading and not any(b.text == heading for b in blocks[:3]):
        blocks.insert(0, Block(heading, "heading"))
    return Document(title=title or heading or "", blocks=blocks, host=host, site_name=site_name,
                    publisher=publisher)


# --------------------------------------------------------------------------- text captures


def _join_broken_lines(lines: list[str]) -> list[str]:
    """Re-join figures a tag-stripped capture split over lines: 缴费基数为\\n4416\\n元."""
    out: list[str] = []
    for line in lines:
        if out and (
            (re.search(r"[\d.,]$", out[-1]) and re.match(r"^[\d.,]*\s*(?:万?元|%|％|个月|天|日|号|年|月)", line))
            or (re.search(r"(?:为|是|按|:|：|至|到|-)$", out[-1]) and re.match(r"^\d", line) and len(out[-1]) > 1
                and not re.match(r"^\d{1,2}\s*[.、．)）]\s*\D", line))  # "1. 个人缴费标准…" starts a list item
        ):
            out[-1] = out[-1] + line
        else:
            out.append(line)
    return out


def _footer_start(lines: list[str]) -> int:
    """Index of the first footer line, looking only in the last part of the page."""
    start = len(lines) // 3
    for i in range(start, len(lines)):
        if FOOTER_LINE.search(lines[i]):
            # climb over the footer's own short preamble lines (地址, 电话 …)
            j = i
            while j > start and re.search(r"^(?:地址|电话|邮编|传真|邮箱|联系电话|办公时间|主办|承办)", lines[j - 1]):
                j -= 1
            return j
    return len(lines)


def _is_teaser_item(lines: list[str], i: int) -> int:
    """Length of a teaser item starting at line i (title, summary, optional date line), or 0."""
    line = lines[i]
    title = BULLET.sub("", line)
    if not (4 <= len(title) <= 40) or re.search(r"[。；;！？]$", title):
        return 0
    n = 1
    if i + 1 < len(lines) and len(lines[i + 1]) >= 20 and not BULLET.match(lines[i + 1]):
        n = 2
        if i + 2 < len(lines) and re.search(r"\d{4}-\d{2}-\d{2}$", lines[i + 2]) and len(lines[i + 2]) <= 30:
            n = 3
    if n == 1 and not BULLET.match(line):
        return 0
    if n < 3 and not BULLET.match(line):
        return 0
    return n


def _teaser_runs(lines: list[str]) -> set[int]:
    """Line numbers inside teaser lists: after a teaser heading, or a run of ≥2 bulleted teasers."""
    drop: set[int] = set()
    i = 0
    while i < len(lines):
        if _is_teaser_heading(lines[i]):
            drop.add(i)
            j = i + 1
            while j < len(lines):
                if _is_teaser_heading(lines[j]):
                    drop.add(j)
                    j += 1
                    continue
                n = _is_teaser_item(lines, j) or _loose_teaser_item(lines, j)
                if not n and j + 1 < len(lines) and (_is_teaser_item(lines, j + 1) or _loose_teaser_item(lines, j + 1)):
                    n = 1  # one stray line inside a teaser list does not end it
                if not n:
                    break
                drop.update(range(j, j + n))
                j += n
            i = j
            continue
        run, j = [], i
        while j < len(lines):
            n = _is_teaser_item(lines, j)
            if not n or not BULLET.match(lines[j]):
                break
            run.append((j, n))
            j += n
        if len(run) >= 2:
            for start, n in run:
                drop.update(range(start, start + n))
            i = j
            continue
        i += 1
    return drop


def _loose_teaser_item(lines: list[str], i: int) -> int:
    """After a teaser heading: a title line, maybe a summary paragraph, maybe a date/source line."""
    title = BULLET.sub("", lines[i])
    if len(title) > 40 or re.search(r"[。；;！？!?]$", title):
        return 0
    n = 1
    if i + 1 < len(lines) and (len(lines[i + 1]) >= 15 or re.search(r"[。！？]$", lines[i + 1])) \
            and not _is_teaser_heading(lines[i + 1]):
        n = 2
    if i + n < len(lines) and re.search(r"\d{4}-\d{2}-\d{2}$", lines[i + n]) and len(lines[i + n]) <= 30:
        n += 1
    return n


def text_document(text: str) -> Document:
    raw = [squash(unicodedata.normalize("NFC", line)) for line in text.splitlines()]
    lines = _join_broken_lines([line for line in raw if line and line not in ("-->", "<!--")])
    title = lines[0] if lines else ""
    end = _footer_start(lines)
    publisher = [line for line in lines[end:] if re.search(r"主办|版权所有", line)][:6]
    drop = _teaser_runs(lines[:end])
    blocks = []
    for i, line in enumerate(lines[:end]):
        if i in drop:
            continue
        kind = "heading" if looks_like_heading(line) else ("item" if BULLET.match(line) else "para")
        blocks.append(Block(BULLET.sub("", line), kind))
    return Document(title=title, blocks=blocks, publisher=publisher)


def looks_like_html(text: str) -> bool:
    head = text[:2048].lower()
    return "<html" in head or "<!doctype html" in head or "<body" in head or bool(re.search(r"<(div|p|table)[\s>]", head))


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


def document_of(text: str, url: str | None = None, is_html: bool | None = None,
                need_publisher: bool = True) -> Document:
    """The article of a page as blocks; HTML or plain text, decided by the caller or by sniffing."""
    text = _CONTROL.sub("", text)  # control characters are not text, and lxml refuses them
    if is_html is None:
        is_html = looks_like_html(text)
    return html_document(text, url, need_publisher) if is_html else text_document(text)


def iter_lines(blocks: Iterable[Block]) -> Iterator[str]:
    for b in blocks:
        yield b.text
