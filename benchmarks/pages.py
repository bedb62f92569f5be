"""N realistic policy pages for the benchmarks, from the project's own demo templates.

Three layouts, each the layout of one page of ``pipeline/demo/site/v1`` (its
CSS is read from that file, its furniture copied): a 城市本地宝 article
(``bendibao``: 相关推荐 teasers with other cities' figures in a sidebar that may
come before the article in source order, 热门推荐, 最新消息 teasers after it), a
医疗保障局 notice (``bureau``: flexible-worker or resident contributions) and a
税务局 notice sent as GBK bytes that declare ``<meta charset="gbk">`` only
(``tax``; exactly one page in every block of ten, so 10%).

City names come from ``extractors/data/regions.tsv``; the figures (bases,
rates, surcharges, contributions, windows, deadlines, phones) are drawn per
city, so sources on the same city agree, and a page's *version* k > 0 moves
one or two of its figures k times (a random walk upwards: a value never comes
back). Paragraph order, the teasers, the lists and the extra sections vary per
page; everything is a pure function of (seed, index, version).

    site = BenchSite(1000, seed=9)
    page = site.page(17)          # version 0
    page2 = site.page(17, 1)      # the same page with changed figures
    page.body, page.content_type, page.path, page.region, page.province

Every layout puts its article in an element with the class ``bench-article``
(besides its own classes), so urlwatch can use one CSS filter for all pages.
"""
from __future__ import annotations

import html
import random
import re
from dataclasses import dataclass, replace
from functools import cached_property, lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "pipeline" / "demo" / "site" / "v1"
REGIONS = ROOT / "extractors" / "data" / "regions.tsv"
TEMPLATES = {
    "bendibao": DEMO / "wf" / "shebao" / "flexible-2025.html",
    "bureau": DEMO / "wf" / "ybj" / "zwgk" / "tzgg" / "202503" / "t20250305_6651203.html",
    "tax": DEMO / "zb" / "tax" / "tzgg" / "202501" / "t20250110_4412867.html",
}
ARTICLE_CLASS = "bench-article"
CSS_SELECTOR = f"div.{ARTICLE_CLASS}"
LAYOUTS = ("bendibao", "bureau", "tax")
NUMERALS = "一二三四五六七八九十"
BASE_TIME = 1735689600  # 2025-01-01T00:00:00Z: Last-Modified of version 0


def numeral(n: int) -> str:
    """1 → 一, 12 → 十二."""
    if n <= 10:
        return NUMERALS[n - 1]
    return "十" + NUMERALS[n - 11] if n < 20 else str(n)


def pct(x: float) -> str:
    return f"{x:g}"


@dataclass(frozen=True)
class City:
    index: int
    name: str
    short: str
    province: str
    province_short: str

    @property
    def code(self) -> str:
        return f"c{self.index:03d}"


@lru_cache(maxsize=1)
def cities() -> tuple[City, ...]:
    rows = [line.split("\t") for line in REGIONS.read_text("utf-8").splitlines()[1:] if line.strip()]
    provinces = {r[0]: r[1] for r in rows if r[3] == "province"}
    found = [(r[0], r[1], r[2]) for r in rows if r[3] == "city"]
    return tuple(City(i, name, short, prov, provinces.get(prov, prov[:2])) for i, (name, short, prov) in enumerate(found))


@lru_cache(maxsize=8)
def template_css(layout: str) -> str:
    """The <style> block of the demo page the layout copies."""
    text = TEMPLATES[layout].read_bytes().decode("gbk" if layout == "tax" else "utf-8")
    found = re.search(r"<style[^>]*>.*?</style>", text, re.S)
    assert found, f"no <style> in {TEMPLATES[layout]}"
    return found.group(0)


# --------------------------------------------------------------------------- figures


@dataclass(frozen=True)
class Figures:
    """What a page states. ``version`` pages differ from version 0 only here (and in their dates)."""

    year: int
    base_min: int
    base_mid: int
    base_max: int
    rate0: float           # flexible: no personal account, no maternity; +1 maternity, +2 account
    ltc: int               # 长期护理保险, CNY per month
    big: int               # 大额医疗费用补助, CNY per year
    deadline_day: int      # monthly payment deadline
    wait_months: int
    employer_rate: float
    resident: int          # 居民医保 individual contribution, CNY per year
    subsidy: int           # 财政补助, CNY per year
    window_start: tuple[int, int]   # (month, day) of year - 1
    year_deadline: tuple[int, int]  # (month, day) of year: flexible workers' last payment day (tax layout)
    phone_pay: str
    phone_benefit: str
    phone_tax: str
    phone_center: str


def _phone(rng: random.Random, area: str) -> str:
    return f"{area}-{rng.randint(2100000, 8899999)}"


def city_figures(seed: int, city: City) -> Figures:
    rng = random.Random(f"{seed}:city:{city.name}")
    mid = rng.randrange(5600, 9400, 4)
    area = f"0{rng.randint(310, 998)}"
    return Figures(
        year=2025, base_min=round(mid * 0.6), base_mid=mid, base_max=mid * 3,
        rate0=rng.choice([6, 6.5, 7, 7, 7.5, 8]), ltc=rng.choice([2, 3, 4, 4, 5, 6]),
        big=rng.choice([60, 90, 120, 150, 150, 180, 200]), deadline_day=rng.choice([15, 20, 20, 25]),
        wait_months=rng.choice([3, 3, 6]), employer_rate=rng.choice([6, 7, 7.5, 8, 8, 9]),
        resident=rng.choice([380, 390, 400, 400, 400, 410]), subsidy=rng.choice([670, 680, 690, 700]),
        window_start=rng.choice([(9, 1), (10, 1), (10, 10), (11, 1)]), year_deadline=rng.choice([(12, 20), (12, 25)]),
        phone_pay=_phone(rng, area), phone_benefit=_phone(rng, area), phone_tax=_phone(rng, area),
        phone_center=_phone(rng, area),
    )


# What each layout states, so a version step always moves a figure the page shows.
CHANGEABLE = {
    "bendibao": ("base_max", "base_wage", "rate0", "ltc", "big", "phone_pay", "deadline_day"),
    "bureau-flexible": ("base_max", "base_wage", "rate0", "big", "ltc", "phone_center"),
    "bureau-resident": ("resident", "subsidy", "phone_center", "wait_months"),
    "tax": ("base_max", "base_wage", "rate0", "employer_rate", "phone_center"),
}


def _step(f: Figures, what: str, rng: random.Random) -> Figures:
    if what == "base_max":
        return replace(f, base_max=f.base_max + rng.randrange(300, 1500, 3))
    if what == "base_wage":
        mid = f.base_mid + rng.randrange(120, 480, 4)
        return replace(f, base_mid=mid, base_min=round(mid * 0.6), base_max=max(f.base_max, mid * 3))
    if what == "rate0":
        return replace(f, rate0=f.rate0 + 0.5)
    if what == "ltc":
        return replace(f, ltc=f.ltc + 1)
    if what == "big":
        return replace(f, big=f.big + rng.choice([10, 20, 30]))
    if what == "deadline_day":
        return replace(f, deadline_day=f.deadline_day + 1 if f.deadline_day < 28 else 10)
    if what == "employer_rate":
        return replace(f, employer_rate=f.employer_rate + 0.5)
    if what == "resident":
        return replace(f, resident=f.resident + rng.choice([10, 20, 30]))
    if what == "subsidy":
        return replace(f, subsidy=f.subsidy + rng.choice([10, 20, 30]))
    if what == "wait_months":
        return replace(f, wait_months=f.wait_months + 1)
    if what.startswith("phone_"):
        old: str = getattr(f, what)
        area, number = old.split("-")
        return replace(f, **{what: f"{area}-{int(number) + rng.randint(1, 999)}"})
    raise ValueError(what)


# --------------------------------------------------------------------------- pages


@dataclass(frozen=True)
class Page:
    index: int
    version: int
    layout: str          # bendibao | bureau-flexible | bureau-resident | tax
    path: str
    city: City
    encoding: str        # utf-8 | gbk
    body: bytes
    figures: Figures
    last_modified: int   # epoch seconds

    @property
    def region(self) -> str:
        return self.city.name

    @property
    def province(self) -> str:
        return self.city.province

    @property
    def content_type(self) -> str:
        """What the server sends: GBK pages declare their charset in a <meta> only."""
        return "text/html" if self.encoding == "gbk" else "text/html; charset=utf-8"


@dataclass(frozen=True)
class Spec:
    index: int
    layout: str
    city: City
    path: str
    encoding: str
    has_ltc: bool  # bureau notices: whether the page has a 长期护理保险 section


class BenchSite:
    """The pages of one benchmark: page i depends on (seed, i, version) only, not on N."""

    def __init__(self, n: int, seed: int = 9) -> None:
        self.n = n
        self.seed = seed

    @cached_property
    def specs(self) -> list[Spec]:
        return [self.spec(i) for i in range(self.n)]

    @cached_property
    def _city_order(self) -> list[City]:
        order = list(cities())
        random.Random(f"{self.seed}:cities").shuffle(order)
        return order

    def spec(self, i: int) -> Spec:
        block = i // 10
        gbk_slot = random.Random(f"{self.seed}:gbk:{block}").randrange(10)
        rng = random.Random(f"{self.seed}:spec:{i}")
        order = self._city_order
        city = order[i % len(order)]
        if i % 10 == gbk_slot:
            layout = "tax"
        else:
            layout = rng.choice(["bendibao", "bendibao", "bureau-flexible", "bureau-flexible", "bureau-resident"])
        if layout == "bendibao":
            path = f"/{city.code}/live/2025{rng.randint(1, 4)}{rng.randint(10, 28)}/{100000 + i}.shtm"
        elif layout == "tax":
            path = f"/{city.code}/tax/tzgg/202501/t202501{rng.randint(10, 28)}_{4400000 + i}.html"
        else:
            path = f"/{city.code}/ybj/zwgk/tzgg/202503/t202503{rng.randint(10, 28)}_{6600000 + i}.html"
        return Spec(i, layout, city, path, "gbk" if layout == "tax" else "utf-8", rng.random() < 0.5)

    def figures(self, i: int, version: int = 0) -> Figures:
        spec = self.specs[i] if i < self.n else self.spec(i)
        f = city_figures(self.seed, spec.city)
        for k in range(1, version + 1):
            rng = random.Random(f"{self.seed}:change:{i}:{k}")
            choices = [c for c in CHANGEABLE[spec.layout] if c != "ltc" or spec.layout != "bureau-flexible" or spec.has_ltc]
            for what in rng.sample(choices, rng.choice([1, 1, 2])):
                f = _step(f, what, rng)
        return f

    def page(self, i: int, version: int = 0) -> Page:
        spec = self.specs[i] if i < self.n else self.spec(i)
        figs = self.figures(i, version)
        rng = random.Random(f"{self.seed}:layout:{i}")  # the same structure in every version
        renderer = {"bendibao": render_bendibao, "bureau-flexible": render_bureau, "bureau-resident": render_bureau,
                    "tax": render_tax}[spec.layout]
        text = renderer(spec, figs, version, rng, self._others(i))
        body = text.encode(spec.encoding, errors="xmlcharrefreplace")
        return Page(i, version, spec.layout, spec.path, spec.city, spec.encoding, body, figs,
                    BASE_TIME + version * 86400 + i % 86400)

    def _others(self, i: int) -> list[tuple[City, Figures]]:
        """Other cities, with their figures, for teasers."""
        rng = random.Random(f"{self.seed}:others:{i}")
        picked = rng.sample(cities(), 10)
        return [(c, city_figures(self.seed + 1, c)) for c in picked]

    def __iter__(self):  # type: ignore[no-untyped-def]
        return (self.page(i) for i in range(self.n))


# --------------------------------------------------------------------------- shared bits


def _date(rng: random.Random, year: int, month_lo: int = 1, month_hi: int = 12) -> str:
    return f"{year}-{rng.randint(month_lo, month_hi):02d}-{rng.randint(1, 28):02d}"


def _pub_time(rng: random.Random, version: int, year: int = 2025) -> str:
    month = min(12, rng.randint(1, 4) + version)
    return f"{year}-{month:02d}-{rng.randint(1, 28):02d} {rng.randint(8, 17):02d}:{rng.randint(0, 59):02d}"


def esc(text: str) -> str:
    return html.escape(text, quote=True)


# --------------------------------------------------------------------------- bendibao


def _teasers(c: City, f: Figures, rng: random.Random, own: City) -> list[tuple[str, str]]:
    y = f.year
    monthly = f"{f.base_min * f.rate0 / 100:.2f}"
    pool = [
        (f"{y}{c.short}灵活就业医保缴费基数{f.base_min}元",
         f"{c.short}{y}年度灵活就业人员职工医保缴费基数下限为{f.base_min}元，上限{f.base_max}元，费率{pct(f.rate0)}%，可按月或按季缴纳。"),
        (f"{c.short}居民医保个人缴费{f.resident}元",
         f"{y}年度{c.short}城乡居民医保个人缴费标准为每人每年{f.resident}元，集中缴费期为{y - 1}年9月1日至12月31日。"),
        (f"{c.short}居民医保住院报销比例{rng.choice([70, 75, 80])}%",
         f"{c.short}居民医保参保人在一级医院住院，政策范围内报销比例{rng.choice([70, 75, 80, 85])}%，起付线{rng.choice([200, 300, 400])}元，"
         f"年度最高支付限额{rng.choice([15, 20, 25])}万元。"),
        (f"{y - 1}{own.short}灵活就业社保缴费基数",
         f"{y - 1}年度{own.short}灵活就业人员月缴费基数上下限暂按{f.base_max - 873}元和{f.base_min - 174}元执行，长期护理保险每月{f.ltc}元。"),
        (f"{c.short}灵活就业医保一个月交多少钱",
         f"按{c.short}{y}年缴费基数下限{f.base_min}元、费率{pct(f.rate0)}%计算，每月需缴纳{monthly}元，咨询电话{f.phone_pay}。"),
        (f"{c.short}大额医疗保险每年多少钱",
         f"{c.short}职工大额医疗费用补助每人每年{f.big}元，灵活就业人员随第一个月医保费一并缴纳。"),
        (f"{c.short}长期护理保险怎么交",
         f"{c.short}长期护理保险按每人每月{f.ltc}元标准缴纳，由医保经办机构随职工医保费一并征收。"),
        (f"{c.short}医保缴费截止时间",
         f"{c.short}灵活就业人员当月医保费请在每月{f.deadline_day}日前缴纳，逾期将产生{f.wait_months}个月待遇等待期。"),
    ]
    return [rng.choice(pool)]


HOT_TITLES = ["社保卡申领指南（线上+线下）", "医保电子凭证怎么激活", "公积金提取条件及流程", "异地就医备案办理指南",
              "医保个人账户余额查询方法", "新生儿落户办理指南", "医保家庭共济怎么绑定", "社保转移办理流程",
              "居住证办理条件及材料", "失业金申领条件及流程", "门诊慢特病申请指南", "生育津贴怎么领取"]
LATEST = [
    ("{y}{s}居民医保缴费截止时间",
     "{y}年度{s}城乡居民医保集中参保缴费将于{y}年2月28日截止，过期缴费将有三个月等待期，还没缴费的居民请抓紧。"),
    ("{s}城乡居民医保住院分娩医疗费补贴金额", "{s}城乡居民医保参保人员一孩、二孩、三孩住院分娩医疗费医保支付分别为1000元、1500元、3000元。"),
    ("{s}灵活就业如何申请社保退费", "灵活就业人员申请社保、医保退费的，提前准备个人银行账号、开户行及开户行行号等信息，到税务部门社会保险费服务窗口办理。"),
    ("{p}灵活就业社保增员指南", "打开“爱{p}”APP，首页搜索“灵活就业人员社会保险参保登记增员”进入服务，阅读申请须知后点击“立即申报”。"),
    ("{s}医保门诊报销比例是多少", "{s}职工医保普通门诊统筹在一级及以下医疗机构报销比例为60%，年度最高支付限额2000元。"),
    ("{s}异地就医直接结算怎么办", "参保人可通过国家医保服务平台APP办理异地就医备案，备案后在开通直接结算的定点医疗机构就医可直接结算。"),
]
FAQ = [
    "费款所属期起止怎么选？缴一个月、一个季度、半年、全年都可以，但最长只能缴到当年12月。接着上次缴到的月份往后缴，别断开就行，每次缴费记住缴到哪个月了。",
    "医保卡划拨账户吗？是否划拨个人账户，由您在医保服务窗口选择的费率档次决定：选择{r2}%或{r3}%的划拨个人账户，选择{r0}%或{r1}%的不划拨。",
    "中断后可以补缴吗？灵活就业人员中断缴费的，原则上不予补缴，请按月及时缴费。",
    "缴费后多久可以享受待遇？按月连续缴费的，缴费次月即可享受职工医保待遇，住院、门诊慢特病按规定报销。",
    "可以用医保个人账户给家人缴费吗？可以。通过医保家庭共济，个人账户余额可为配偶、父母、子女缴纳居民医保个人缴费部分。",
    "退休时缴费年限不够怎么办？达到法定退休年龄时职工医保累计缴费年限不足的，可按规定延长缴费至满足年限后享受退休人员医保待遇。",
]


def render_bendibao(spec: Spec, f: Figures, version: int, rng: random.Random, others: list[tuple[City, Figures]]
                    ) -> str:
    c, y = spec.city, f.year
    s, code, ps = c.short, c.code, c.province_short
    r = [pct(f.rate0 + k) for k in (0, 1, 2, 3)]
    monthly = f.base_min * f.rate0 / 100
    title = f"{s}灵活就业医保缴费标准{y}（基数+费率+时间）"
    lead = f"{y}年度{s}灵活就业人员医保缴费基数、费率已经公布，缴费实行自主申报，按月缴纳，下面为大家整理了最新的缴费标准和操作流程。"
    teaser_rng = random.Random(rng.random())
    teasers = [_teasers(oc, of, teaser_rng, c)[0] for oc, of in others[: rng.randint(4, 8)]]
    hot = rng.sample(HOT_TITLES, rng.randint(5, 9))
    latest = rng.sample(LATEST, rng.randint(2, 6))

    sections: list[tuple[str, list[str]]] = [
        ("缴费时间", [f"请务必于每月{f.deadline_day}日前完成当月医保缴费，以免因“中断缴费”产生待遇等待期，影响住院报销等待遇享受。",
                   f"中断缴费后再次缴费的，自再次缴费之月起设置{f.wait_months}个月待遇等待期，等待期内发生的医疗费用医保基金不予支付。"]),
        ("缴费基数", [f"{y}年度缴费基数：最低档{f.base_min}元、社会平均工资档{f.base_mid}元、最高档{f.base_max}元，"
                   f"可在{f.base_min}元至{f.base_max}元之间自主选择。缴费基数选得越高，每月缴费越多。"]),
        ("缴费费率", [f"医疗险费率有四种：{r[0]}%（无个人账户、无生育）或{r[1]}%（无个人账户、带生育）或{r[2]}%（有个人账户、无生育）"
                   f"或{r[3]}%（有个人账户、带生育）。",
                   "费率档次在医保服务窗口办理参保登记时选定，扫码缴费不会修改已选档次；如需变更，请携带身份证到参保地医保服务窗口办理。"]),
        ("长期护理保险和大额医疗", [f"灵活就业人员缴纳医疗险的同时，还需缴纳长期护理保险和大额医疗费用补助（简称“大额医疗”）："
                             f"长期护理保险每月{f.ltc}元，大额医疗每年{f.big}元。"]),
    ]
    rng.shuffle(sections)
    sections.append(("一个月需要交多少钱", [
        f"您需要缴3项：医疗、长护、大额。计算方法：缴费基数╳费率＋长护{f.ltc}元＋大额（{f.big}元/年）。缴几个月的，再乘以月数即可。",
        f"举例：选择最低档{f.base_min}元、费率{r[0]}%，每月医疗险为{monthly:.2f}元，加上长护{f.ltc}元，每月合计{monthly + f.ltc:.2f}元；"
        f"大额医疗{f.big}元在每年第一次缴费时一并缴纳。选上月份、填上基数后，系统会自动计算，不会出错。"]))
    channels = [
        f"1、微信缴费：微信搜索“{ps}税务社保费缴纳”小程序——选择“灵活就业”——“医保自主申报”——勾选全部险种——填写“费款所属期起止”和“缴费基数”——"
        "点击“计算缴费金额”——确认缴费。",
        f'<IMG alt="{s}灵活就业医保微信缴费" n=1>',
        f"2、支付宝缴费：打开支付宝，搜索“{ps}税务社保费缴纳”，进入后按上述步骤操作。",
        f'<IMG alt="{s}灵活就业医保支付宝缴费" n=2>',
        f"3、电子税务局：登录{c.province}电子税务局，选择“自然人业务”——“社保费缴纳”办理。",
        "4、线下缴费：携带身份证到各县市区政务服务中心税务窗口办理。",
    ]
    sections.append(("缴费渠道", channels))
    faq = rng.sample(FAQ, rng.randint(3, 6))
    sections.append(("您最关心的几件事", [f"{k}、" + q.format(r0=r[0], r1=r[1], r2=r[2], r3=r[3])
                                   for k, q in enumerate(faq, 1)]))
    if rng.random() < 0.5:
        sections.append(("参保登记怎么办", [
            f"首次以灵活就业人员身份参加职工医保的，可通过“{ps}医保”微信公众号、国家医保服务平台APP或线下医保服务窗口办理参保登记。",
            "办理时需提供本人有效身份证件，选择缴费费率档次并签订缴费协议；户籍不在本地的，还需提供居住证或居住登记凭证。",
            "参保登记成功后，次日即可通过税务渠道申报缴费。已在其他地区参保的，请先办理停保或转移接续手续，避免重复参保。"]))
    sections.append(("咨询电话", [f"税务部门咨询电话：{f.phone_tax}、12366", f"医保缴费咨询电话：{f.phone_pay}",
                              f"医保待遇咨询电话：{f.phone_benefit}"]))

    paras: list[str] = ["<p>　　广大灵活就业参保人员：</p>",
                        f"<p>　　{y}年度灵活就业人员医保缴费继续实行自主申报模式，不再组织集中征缴，每个月都可以缴费。"
                        "参保人可根据个人实际情况选择按月、按季度、按半年或按年缴纳。</p>"]
    for k, (head, body) in enumerate(sections, 1):
        paras.append(f"<p><strong>{numeral(k)}、{head}</strong></p>")
        for line in body:
            if line.startswith("<IMG"):
                alt = re.search(r'alt="([^"]*)"', line).group(1)  # type: ignore[union-attr]
                n = line[-2]
                paras.append(f'<p class="pic"><img src="//imgbdb3.bendibao.com/{code}/2025{spec.index % 9 + 1:02d}/'
                             f'{spec.index % 27 + 1:02d}/2025031809{spec.index % 60:02d}{n}_{spec.index:05d}.png" '
                             f'alt="{alt}"><span>{"微信" if n == "1" else "支付宝"}扫码缴费</span></p>')
            else:
                paras.append(f"<p>　　{line}</p>")
    paras.append(f'<p class="tips-wx">　　温馨提示：微信搜索公众号<strong>{s}本地宝</strong>，关注后在对话框回复【医保】可获{s}医保余额查询入口、'
                 "医保参保缴费指南、异地就医指南、医保常见问题等。</p>")

    side = ['<div class="right side" id="sidebar">', '  <div class="side-box tuijian">', "    <h3>相关推荐</h3>", "    <ul>"]
    for k, (t, p) in enumerate(teasers):
        side.append(f'      <li><a href="/z/shebao/2025{k + 1:02d}{10 + k}/{108000 + spec.index * 7 + k}.shtm" target="_blank" '
                    f'title="{esc(t)}">{esc(t)}</a>\n        <p>{esc(p)}</p></li>')
    side += ["    </ul>", "  </div>", '  <div class="side-box hot">', "    <h3>热门推荐</h3>", "    <ul>"]
    for k, t in enumerate(hot, 1):
        cls = ' class="t3"' if k <= 3 else ""
        side.append(f'      <li{cls}><i>{k}</i><a href="/z/shebao/2024{k:02d}{k + 10}/{106000 + k * 13}.shtm" '
                    f'target="_blank">{s}{t}</a></li>')
    side += ["    </ul>", "  </div>", '  <div class="side-box wx">',
             f'    <img src="//imgbdb3.bendibao.com/{code}/ewm/{code}bdb.jpg" alt="{s}本地宝微信公众号">',
             f"    <p>微信扫一扫，关注{s}本地宝</p>", "    <p>回复【医保】获取缴费入口</p>", "  </div>", "</div>"]
    sidebar = "\n".join(side)
    latest_items = "\n".join(
        f'      <li><span class="date">{_date(rng, y - (k > 1), 1, 12)}</span><a href="/z/yiliaobaoxian/2025{k + 1:02d}'
        f'{10 + k}/{109100 + k}.shtm" target="_blank">{t.format(y=y, s=s, p=ps)}</a>\n'
        f"        <p>{p.format(y=y, s=s, p=ps)}</p></li>" for k, (t, p) in enumerate(latest))
    tags = "".join(f'<a href="/z/{slug}/">{s}{word}</a>' for slug, word in rng.sample(
        [("yiliaobaoxian", "医保缴费"), ("shebao", "社保查询"), ("shebao/lhjy", "灵活就业社保"), ("yiliaobaoxian/jmyb", "居民医保"),
         ("yiliaobaoxian/ydjy", "异地就医"), ("shebao/shebaoka", "社保卡"), ("gjj", "公积金"), ("hukou", "落户")], rng.randint(4, 8)))
    stamp = _pub_time(rng, version)
    article = f"""<div class="leftSide">
  <div class="title">
    <h1>{title}</h1>
    <div class="info"><span class="time">{stamp}</span><span class="source">来源：{s}本地宝整理</span><span class="author">编辑：{rng.choice("王李张刘陈杨赵黄")}{rng.choice(["晓", "敏", "静", "磊", "婷", "洋"])}</span><a class="jiucuo" href="javascript:;" onclick="jiucuo()">【我要纠错】</a></div>
  </div>
  <div class="leading"><strong>【导语】：</strong>{lead}</div>
  <div class="content {ARTICLE_CLASS}" id="bo">
{chr(10).join(paras)}
  </div>
  <div class="dajia">
    <h3>大家都在搜</h3>
    {tags}
  </div>
  <div class="xiangguan">
    <h3>{s}医疗保险最新消息</h3>
    <ul>
{latest_items}
    </ul>
  </div>
</div>"""
    main = sidebar + "\n" + article if rng.random() < 0.7 else article + "\n" + sidebar
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta http-equiv="X-UA-Compatible" content="IE=edge,chrome=1">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>{title}- {s}本地宝</title>
<meta name="keywords" content="{s}灵活就业医保,{s}灵活就业医保缴费基数,{s}灵活就业医保费率,{s}灵活就业医保怎么交">
<meta name="description" content="{lead}">
<meta name="mobile-agent" content="format=html5;url=http://m.{code}.bendibao.com/live/2025318/{100000 + spec.index}.shtm">
<link rel="canonical" href="http://{code}.bendibao.com/live/2025318/{100000 + spec.index}.shtm">
<link rel="stylesheet" href="//static.bendibao.com/css/public_v3.css?v=20250301">
{template_css("bendibao")}
<script>var _hmt = _hmt || [];(function(){{var hm=document.createElement("script");hm.src="//hm.baidu.com/hm.js?2f4bb2b6c3bc5e2f";var s=document.getElementsByTagName("script")[0];s.parentNode.insertBefore(hm,s);}})();</script>
</head>
<body>
<div class="top-bar">
  <div class="wrap">
    <span class="city"><b>{s}</b><a href="http://www.bendibao.com/city.htm" target="_blank">[切换城市]</a></span>
    <ul class="top-links">
      <li><a href="http://m.{code}.bendibao.com/" target="_blank">手机版</a></li>
      <li><a href="/z/" target="_blank">办事指南</a></li>
      <li><a href="/news/" target="_blank">{s}资讯</a></li>
      <li><a href="http://www.bendibao.com/" target="_blank">本地宝首页</a></li>
    </ul>
  </div>
</div>
<div class="header wrap clearfix">
  <a class="logo" href="/"><img src="//imgbdb3.bendibao.com/{code}/logo/{code}_logo.png" alt="{s}本地宝"></a>
  <div class="search">
    <form action="//sou.bendibao.com/cse/search" method="get" target="_blank">
      <input type="hidden" name="city" value="{code}"><input type="text" name="q" placeholder="搜索{s}社保、公积金、医保…"><button type="submit">搜索</button>
    </form>
  </div>
</div>
<div class="nav">
  <ul class="wrap clearfix">
    <li><a href="/">首页</a></li>
    <li class="on"><a href="/z/shebao/">社保</a></li>
    <li><a href="/z/yiliaobaoxian/">医保</a></li>
    <li><a href="/z/gjj/">公积金</a></li>
    <li><a href="/z/hukou/">户籍</a></li>
    <li><a href="/z/juzhuzheng/">居住证</a></li>
    <li><a href="/z/jiaoyu/">教育</a></li>
    <li><a href="/z/jiaotong/">交通</a></li>
    <li><a href="/z/lvyou/">旅游</a></li>
    <li><a href="/z/banshi/">办事大厅</a></li>
  </ul>
</div>
<div class="position wrap">
  <a href="/">{s}本地宝</a> &gt; <a href="/z/">办事指南</a> &gt; <a href="/z/shebao/">{s}社保</a> &gt; <a href="/z/yiliaobaoxian/">{s}医疗保险</a> &gt; <span>{s}灵活就业医保缴费标准{y}</span>
</div>
<div class="main wrap clearfix">
{main}
</div>
<div class="footer">
  <p><a href="http://www.bendibao.com/about/" target="_blank">关于本地宝</a>|<a href="http://www.bendibao.com/about/contact.htm" target="_blank">联系我们</a>|<a href="http://www.bendibao.com/about/ad.htm" target="_blank">商务合作</a>|<a href="http://www.bendibao.com/about/mianze.htm" target="_blank">免责声明</a>|<a href="/sitemap.htm" target="_blank">网站地图</a></p>
  <p>本地宝郑重声明：本站信息均整理自政府官网、官方公众号等公开渠道，仅供参考，如有疑问请以官方公布为准。</p>
  <p>客服电话：0755-86925588　违法和不良信息举报电话：0755-86926900</p>
  <p>Copyright © 2010-2025 bendibao.com All Rights Reserved　粤ICP备13052220号-1</p>
</div>
<script src="//static.bendibao.com/js/jiucuo.js?v=2"></script>
</body>
</html>
"""


# --------------------------------------------------------------------------- bureau (医疗保障局)


# Figure-free policy wording: bureau and tax notices vary in length by how much of it they carry.
POLICY = [
    "各级医保经办机构要优化服务流程，推行“一窗通办”，对符合条件的参保登记、信息变更等业务做到即时办结，不得要求参保人员重复提交材料。",
    "对老年人、残疾人等群体保留线下办理渠道，提供预约、代办、上门等服务。参保人员可通过政务服务网查询经办网点地址及办公时间。",
    "各经办网点应在醒目位置公示服务事项、办理流程和咨询方式，主动接受社会监督，对群众反映的问题及时核实处理并反馈结果。",
    "医保部门和税务部门要建立健全信息共享机制，及时传递参保登记、缴费核定和到账信息，确保参保人员缴费后按时享受待遇。",
    "各地要加强政策宣传，通过政府网站、微信公众号、短视频平台和基层公共服务平台等渠道，广泛宣传灵活就业人员参保缴费政策和办理方式。",
    "对通过欺诈、伪造证明材料等手段骗取医保待遇的，依照《医疗保障基金使用监督管理条例》等规定严肃处理；构成犯罪的，依法追究刑事责任。",
    "参保人员对缴费核定有异议的，可向参保地医保经办机构申请复核，经办机构应在规定时限内作出答复，并告知参保人员复核结果及依据。",
    "各县市区要将参保扩面工作纳入年度目标考核，定期通报工作进展，对工作推进不力、群众反映强烈的单位进行督导，确保各项措施落实落地。",
    "跨统筹区流动就业的参保人员，可通过国家医保服务平台APP申请办理医保关系转移接续，转出地和转入地经办机构应按规定时限办结。",
    "本通知由市医疗保障局负责解释。各地在执行过程中遇到的问题，请及时向市医疗保障局和市税务局报告，以便研究解决。",
]


RELATED_FILES = [
    "关于{py}年度灵活就业人员参加职工基本医疗保险缴费有关事项的通知", "《关于调整灵活就业人员职工医保缴费费率的通知》政策解读",
    "{c}医疗保障局关于进一步优化灵活就业人员参保登记服务的通知", "关于做好{y}年度城乡居民基本医疗保险集中征缴工作的通知",
    "{c}医疗保障局关于公布定点医药机构名单的公告", "关于开展{y}年度打击欺诈骗保专项整治行动的通知",
    "{c}职工基本医疗保险门诊共济保障实施细则", "关于执行国家组织药品集中带量采购中选结果的通知",
    "{c}医疗保障局{py}年度政府信息公开工作年度报告", "关于做好{y}年度医保经办服务窗口规范化建设的通知",
]


def render_bureau(spec: Spec, f: Figures, version: int, rng: random.Random, others: list[tuple[City, Figures]]) -> str:
    c, y = spec.city, f.year
    s, code, ps = c.short, c.code, c.province_short
    bureau = f"{c.name}医疗保障局"
    resident = spec.layout == "bureau-resident"
    n_doc = rng.randint(3, 40)
    if resident:
        title = f"关于做好{y}年度城乡居民基本医疗保险集中征缴工作的通知"
        opening = f"为做好我市{y}年度城乡居民基本医疗保险（以下简称“居民医保”）集中征缴工作，根据上级有关文件精神，结合我市实际，现就有关事项通知如下："
        ws = f.window_start
        sections: list[tuple[str, list[str]]] = [
            ("参保范围", ["除职工基本医疗保险应参保人员或按规定享有其他保障的人员以外的全体城乡居民，包括在校大中小学生、学龄前儿童、新生儿，"
                      "以及持有居住证的非本市户籍常住人员，均可在我市参加居民医保。"]),
            ("缴费标准", [f"{y}年度我市居民医保个人缴费标准为每人每年{f.resident}元。各级财政对居民医保的补助标准不低于每人每年{f.subsidy}元。",
                      "对特困人员给予全额资助；对低保对象、防止返贫监测对象按规定给予定额资助，资助资金由医疗救助基金支出。"]),
            ("征缴时间", [f"{y}年度居民医保集中征缴期为{y - 1}年{ws[0]}月{ws[1]}日至{y - 1}年12月31日。在集中征缴期内参保缴费的，"
                      f"自{y}年1月1日起享受居民医保待遇。",
                      f"集中征缴期结束后参保缴费的（零星缴费），设置{f.wait_months}个月待遇等待期，等待期满后开始享受待遇。"
                      "新生儿在出生后90天内参保缴费的，自出生之日起享受待遇，不设待遇等待期。"]),
            ("缴费方式", [f"参保群众可通过“{ps}税务”微信小程序、支付宝“市民中心”、国家医保服务平台APP等线上渠道缴费，也可到合作银行网点或所在村（社区）"
                      "代收点缴费。医保个人账户家庭共济可为近亲属代缴居民医保费。"]),
        ]
        head = sections[:1]
        middle = sections[1:]
        rng.shuffle(middle)
        sections = head + middle
        sections.append(("工作要求", ["各县（市、区）医保部门和税务部门要加强协作，压实乡镇（街道）、村（社区）工作责任，通过集中宣传、入户动员等方式，"
                                  "做好政策宣传解读，切实提高参保质量，做到应保尽保。"]))
        phone = f"咨询电话：{c.name}医疗保障事务中心居民参保科 {f.phone_center}；纳税缴费服务热线 12366。"
    else:
        title = f"关于{y}年度灵活就业人员参加职工基本医疗保险缴费有关事项的通知"
        opening = (f"根据《{c.province}职工基本医疗保险办法》和省医疗保障局有关文件规定，结合我市实际，现将{y}年度灵活就业人员参加职工基本医疗保险"
                   "（以下简称“职工医保”）缴费有关事项通知如下：")
        r = [pct(f.rate0 + k) for k in (0, 1, 2, 3)]
        sections = [
            ("缴费基数", [f"{y}年度灵活就业人员职工医保月缴费基数下限为{f.base_min}元，上限为{f.base_max}元，参保人员可在上下限范围内自主选择缴费基数。"
                      f"全省全口径城镇单位就业人员月平均工资{f.base_mid}元可作为中间档，供参保人员参考选择。"]),
            ("缴费费率", ["灵活就业人员职工医保费率分为四档，由参保人员在办理参保登记时自主选定：",
                      f"（一）不建立个人账户、不含生育保险的，费率为{r[0]}%；", f"（二）不建立个人账户、含生育保险的，费率为{r[1]}%；",
                      f"（三）建立个人账户、不含生育保险的，费率为{r[2]}%；", f"（四）建立个人账户、含生育保险的，费率为{r[3]}%。",
                      "选择建立个人账户的，按规定划入个人账户；选择含生育保险的，按规定享受生育保险待遇。已选定的费率档次在一个医保年度内原则上不作调整。"]),
            ("大额医疗费用补助", [f"灵活就业人员在缴纳职工医保费的同时，按每人每年{f.big}元的标准缴纳大额医疗费用补助，于当年度首次缴费时一并缴纳。"]),
        ]
        if spec.has_ltc:
            sections.append(("长期护理保险", [f"参加职工医保的灵活就业人员同步参加长期护理保险，长期护理保险费按每人每月{f.ltc}元缴纳，随职工医保费按月征收。"]))
        rng.shuffle(sections)
        sections += [
            ("缴费方式", [f"灵活就业人员职工医保费实行按月申报缴纳，也可按季、按半年或按年预缴，当月费款应于当月{f.deadline_day}日前缴纳。"
                      f"参保人员可通过“{ps}税务社保费缴纳”微信小程序、支付宝、{c.province}电子税务局或税务部门办税服务厅缴费。"]),
            ("待遇享受", ["参保人员按规定连续缴费的，自缴费次月起享受职工医保待遇。中断缴费的，再次缴费后按规定设置待遇等待期。"
                      "灵活就业人员达到法定退休年龄时累计缴费年限不足的，可按规定延长缴费。"]),
        ]
        phone = f"咨询电话：{c.name}医疗保障服务中心 {f.phone_center}；医保服务热线 12393。"
    policy = rng.sample(POLICY, rng.randint(3, 8))
    sections.append(("经办服务", policy[: len(policy) // 2]))
    sections.append(("工作保障", policy[len(policy) // 2:]))
    sections.append(("其他事项", ["本通知自发布之日起执行。执行中如遇国家、省政策调整，按新规定执行。各县市区医保部门要做好政策宣传解读，"
                              "主动引导参保人员通过线上渠道办理参保缴费业务。"]))
    lines = [f'<p class="nd">各县市区医疗保障局，市属各开发区医保经办机构{"，各有关单位" if resident else "，各灵活就业参保人员"}：</p>',
             f"<p>{opening}</p>"]
    for k, (head_, body) in enumerate(sections, 1):
        lines.append(f"<h4>{numeral(k)}、{head_}</h4>")
        lines += [f"<p>{line}</p>" for line in body]
    pub = _pub_time(rng, version)
    day = pub[:10]
    lines += [f"<p>{phone}</p>", f'<p class="sign">{bureau}</p>',
              f'<p class="sign">{int(day[:4])}年{int(day[5:7])}月{int(day[8:10])}日</p>', '<p class="nd">（此件公开发布）</p>']
    related = "\n".join(
        f'      <li><span>{_date(rng, rng.choice([y - 2, y - 1]))}</span><a href="/{code}/ybj/zwgk/tzgg/2024{k + 1:02d}/t2024{k + 1:02d}'
        f'{10 + k}_{6390000 + k * 37}.html" target="_blank">{t.format(c=c.name, y=y, py=y - 1)}</a></li>'
        for k, t in enumerate(rng.sample(RELATED_FILES, rng.randint(3, 9))))
    cur = ' class="cur"'
    menu = "".join(f'    <li{cur if k == 2 else ""}><a href="/{code}/ybj/{slug}/">{word}</a></li>\n' for k, (slug, word) in
                   enumerate([("", "首　页"), ("jggk", "机构概况"), ("zwgk", "政务公开"), ("zcwj", "政策文件"), ("zcjd", "政策解读"),
                              ("bsfw", "办事服务"), ("hdjl", "互动交流"), ("ztzl", "专题专栏")]))
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta http-equiv="X-UA-Compatible" content="IE=edge">
<meta name="SiteName" content="{bureau}">
<meta name="SiteDomain" content="ybj.{code}.gov.cn">
<meta name="SiteIDCode" content="{3700000000 + spec.index}">
<meta name="ColumnName" content="通知公告">
<meta name="ColumnType" content="通知公告">
<meta name="ArticleTitle" content="{title}">
<meta name="PubDate" content="{pub}">
<meta name="ContentSource" content="{bureau}">
<title>{title}_通知公告_{bureau}</title>
<link rel="stylesheet" href="/{code}/ybj/css/common.css">
{template_css("bureau")}
<script src="/{code}/ybj/js/jquery-1.12.4.min.js"></script>
</head>
<body>
<div class="topbar">
  <div class="w1200 clearfix">
    <div class="fl">欢迎访问{bureau}网站！</div>
    <div class="fr"><a href="http://www.{code}.gov.cn/" target="_blank">中国·{s}</a><a href="http://ybj.{code}p.gov.cn/" target="_blank">{c.province}医疗保障局</a><a href="javascript:;" id="wza">无障碍</a><a href="javascript:;" id="oldman">长者模式</a></div>
  </div>
</div>
<div class="banner"><div class="w1200 logo"><img src="/{code}/ybj/images/logo.png" alt="{bureau}"></div></div>
<div class="menu">
  <ul class="w1200 clearfix">
{menu}  </ul>
</div>
<div class="w1200 dqwz">您当前的位置：<a href="/{code}/ybj/">首页</a> &gt; <a href="/{code}/ybj/zwgk/">政务公开</a> &gt; <a href="/{code}/ybj/zwgk/tzgg/">通知公告</a></div>
<div class="w1200 main-box">
  <table class="xxgk-table">
    <tr><td class="t">索引号</td><td>11{spec.index:06d}MB2838671K/{y}-{n_doc:05d}</td><td class="t">发布机构</td><td>{bureau}</td></tr>
    <tr><td class="t">成文日期</td><td>{day}</td><td class="t">发布日期</td><td>{day}</td></tr>
    <tr><td class="t">主题分类</td><td>劳动、人事、监察</td><td class="t">文号</td><td>{s}医保发〔{y}〕{n_doc}号</td></tr>
  </table>
  <h1 class="art_tit">{title}</h1>
  <div class="art_info"><span>发布时间：{pub}</span><span>信息来源：{bureau}</span><span>浏览次数：<em id="clicks">{rng.randint(300, 20000)}</em></span><span>字号：[<a href="javascript:doZoom(18)">大</a> <a href="javascript:doZoom(16)">中</a> <a href="javascript:doZoom(14)">小</a>]</span></div>
  <div class="article_con {ARTICLE_CLASS}">
    <div class="TRS_Editor">
{chr(10).join(lines)}
    </div>
  </div>
  <div class="art_fn">【<a href="javascript:window.print()">打印本页</a>】【<a href="javascript:window.close()">关闭窗口</a>】【<a href="javascript:;" id="share">分享</a>】</div>
  <div class="xgwj">
    <h4>相关文件</h4>
    <ul>
{related}
    </ul>
  </div>
</div>
<div class="footer">
  <div class="w1200 clearfix">
    <span class="dzjg"><img src="/{code}/ybj/images/dzjg.png" alt="党政机关"></span>
    <p>主办单位：{bureau}　承办：{bureau}办公室</p>
    <p>地址：{c.name}{rng.choice(["人民路", "政务大道", "新华街", "府前街", "文化路"])}{rng.randint(1, 999)}号　邮编：{rng.randint(100000, 850000)}　联系电话：{f.phone_center.split("-")[0]}-{rng.randint(2100000, 8899999)}</p>
    <p>网站标识码：{3700000000 + spec.index}　<a href="https://beian.miit.gov.cn/" target="_blank">{ps}ICP备{rng.randint(10000000, 99999999)}号</a>　{ps}公网安备 {rng.randint(10**13, 10**14 - 1)}号</p>
    <p>建议使用1366×768以上分辨率浏览本网站</p>
  </div>
</div>
<script src="/{code}/ybj/js/clicks.js"></script>
</body>
</html>
"""


# --------------------------------------------------------------------------- tax (税务局, GBK)


TIPS = [
    "请缴费人通过官方渠道缴费，切勿委托无资质的中介机构或个人代办，谨防上当受骗。",
    "缴费成功后，可通过{prov}电子税务局或“{ps}税务社保费缴纳”小程序查询缴费记录、开具社会保险费缴费证明；缴费记录一般于缴费次日同步至医保部门。",
    "参保人员身份证件、银行账户等信息发生变化的，请及时到医保经办机构或通过“爱{ps}”APP办理信息变更，以免影响缴费和待遇享受。",
    "委托银行代扣缴费的，请确保签约账户余额充足；代扣失败的，请在规定期限内通过其他渠道自行缴纳。",
    "灵活就业人员停止缴费的，应及时到医保经办机构办理停保手续；重新就业由单位参保的，不需重复缴费。",
    "已开具的社会保险费缴费证明可通过电子税务局验证真伪，纸质证明与电子证明具有同等效力。",
]
LINKS = ["关于{y}年度城乡居民基本医疗保险费征缴工作的通告", "社保费缴费操作指引（自然人篇）", "{c}各区县办税服务厅地址及办公时间",
         "灵活就业人员社保费缴纳常见问题解答", "关于{py}年度社会保险缴费基数上下限的公告", "{c}税务局关于开展纳税缴费服务月活动的通知",
         "个人所得税综合所得汇算清缴操作指引", "关于推广社保费“跨省通缴”服务的通告", "{c}税务局{py}年度政府信息公开工作年度报告"]


def render_tax(spec: Spec, f: Figures, version: int, rng: random.Random, others: list[tuple[City, Figures]]) -> str:
    c, y = spec.city, f.year
    s, code, ps = c.short, c.code, c.province_short
    tax = f"国家税务总局{c.name}税务局"
    title = f"{tax} {c.name}医疗保障局关于{y}年度职工基本医疗保险费征缴有关事项的通告"
    monthly = f.base_min * f.rate0 / 100
    md = f.year_deadline
    employer = [
        f"（一）缴费比例。用人单位按照本单位职工工资总额的{pct(f.employer_rate)}%缴纳职工医保费（含生育保险）；职工个人按照本人缴费基数的2%缴纳，由用人单位代扣代缴。",
        "（二）缴费基数。职工个人以本人上年度月平均工资为缴费基数。本人上年度月平均工资低于全省全口径城镇单位就业人员月平均工资60%的，按60%确定；高于300%的，按300%确定。",
        "（三）申报缴纳。用人单位应于每月15日前向税务部门申报并缴纳当月职工医保费。",
    ]
    flexible = [
        f"（一）缴费基数。{y}年度灵活就业人员缴费基数下限为{f.base_min}元，上限为{f.base_max}元，可在上下限之间自主选择。",
        f"（二）缴费比例。灵活就业人员按缴费基数的{pct(f.rate0)}%缴纳职工医保费，不建立个人账户。",
        f"（三）缴费期限。灵活就业人员可按月、按季、按半年或按年缴费，{y}年度费款最迟应于{y}年{md[0]}月{md[1]}日前缴纳，逾期不再办理当年度缴费。",
        f"（四）月缴费额计算。月缴费额＝缴费基数╳缴费比例。例如，按缴费基数下限计算，每月应缴纳职工医保费{monthly:.2f}元。",
    ]
    groups = [("用人单位及其职工", employer), ("灵活就业人员", flexible)]
    if rng.random() < 0.3:
        groups.reverse()
    channels = [f"{c.province}电子税务局（自然人业务—社保费缴纳）；", f"“{ps}税务社保费缴纳”微信小程序、支付宝小程序；",
                f"“爱{ps}”APP社保费缴纳专区；", "各区县办税服务厅及合作银行网点。"]
    rng.shuffle(channels)
    tips = rng.sample(TIPS, rng.randint(3, 6))
    body = [f"<p>为做好{y}年度职工基本医疗保险费（含生育保险费，以下简称“职工医保费”）征缴工作，根据《{c.province}职工基本医疗保险办法》等有关规定，现将有关事项通告如下：</p>"]
    k = 0
    for head, items in groups:
        k += 1
        body.append(f"<p><strong>{numeral(k)}、{head}</strong></p>")
        body += [f"<p>{p}</p>" for p in items]
    k += 1
    body.append(f"<p><strong>{numeral(k)}、缴费渠道</strong></p>")
    body += [f'<p class="lst">· {ch}</p>' for ch in channels]
    k += 1
    body += [f"<p><strong>{numeral(k)}、其他事项</strong></p>",
             f"<p>参保人员应按时足额缴费。中断缴费的，按照《{c.province}职工基本医疗保险办法》规定设置待遇等待期。本通告自发布之日起施行，"
             "此前规定与本通告不一致的，以本通告为准。</p>"]
    body += [f"<p>{p}</p>" for p in rng.sample(POLICY, rng.randint(4, 8))]
    k += 1
    body.append(f"<p><strong>{numeral(k)}、温馨提示</strong></p>")
    body += [f"<p>（{NUMERALS[j]}）{t.format(prov=c.province, ps=ps)}</p>" for j, t in enumerate(tips)]
    k += 1
    pub = f"{y}-01-{rng.randint(5, 28):02d}"
    body += [f"<p><strong>{numeral(k)}、咨询服务</strong></p>", "<p>纳税缴费服务热线：12366</p>",
             f"<p>{c.name}医疗保障局参保咨询电话：{f.phone_center}</p>", "<p>特此通告。</p>",
             f'<p class="qm">{tax}　　{c.name}医疗保障局</p>', f'<p class="qm">{y}年1月{int(pub[-2:])}日</p>']
    links = "\n".join(
        f'      <li><a href="/{code}/tax/sbf/2024{j + 1:02d}/t2024{j + 1:02d}{10 + j}_{4398000 + j * 41}.html" target="_blank">'
        f'{t.format(c=c.name, y=y, py=y - 1)}</a><span>{_date(rng, y - 1, 6, 12)}</span></li>'
        for j, t in enumerate(rng.sample(LINKS, rng.randint(4, 9))))
    return f"""<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml">
<head>
<meta charset="gbk">
<meta name="SiteName" content="{tax}">
<meta name="SiteDomain" content="{ps.lower()}.chinatax.gov.cn/{code}">
<meta name="SiteIDCode" content="bm{29030000 + spec.index}">
<meta name="ColumnName" content="通知公告">
<meta name="ArticleTitle" content="{title}">
<meta name="PubDate" content="{pub}">
<title>{title} - {tax}</title>
<link href="/{code}/tax/css/style.css" rel="stylesheet" type="text/css" />
{template_css("tax")}
<script type="text/javascript" src="/{code}/tax/js/jquery-1.8.3.min.js"></script>
</head>
<body>
<div class="w">
<div class="top cl">
  <div class="l">{tax} · 欢迎您</div>
  <div class="r"><a href="http://www.chinatax.gov.cn/" target="_blank">国家税务总局</a>|<a href="http://{code}.chinatax.gov.cn/" target="_blank">国家税务总局{c.province}税务局</a>|<a href="http://www.{code}.gov.cn/" target="_blank">{c.name}人民政府</a>|<a href="javascript:void(0);" id="wza">无障碍</a></div>
</div>
<div class="banner"><img src="/{code}/tax/images/logo_{code}.png" alt="{tax}" /></div>
<div class="menu">
  <ul class="cl">
    <li><a href="/{code}/tax/">首页</a></li>
    <li><a href="/{code}/tax/jgsz/">机构设置</a></li>
    <li><a href="/{code}/tax/swxw/">税务新闻</a></li>
    <li><a href="/{code}/tax/tzgg/" class="on">通知公告</a></li>
    <li><a href="/{code}/tax/zcfg/">政策法规</a></li>
    <li><a href="/{code}/tax/nsfw/">纳税服务</a></li>
    <li><a href="/{code}/tax/sbf/">社保费征缴</a></li>
    <li><a href="/{code}/tax/xxgk/">信息公开</a></li>
    <li><a href="/{code}/tax/hdjl/">互动交流</a></li>
  </ul>
</div>
<div class="kjrk cl">
  <a href="https://etax.{code}.chinatax.gov.cn/" target="_blank">{c.province}电子税务局</a>
  <a href="/{code}/tax/nsfw/bsznn/">办税指南</a>
  <a href="/{code}/tax/nsfw/sszc/">税收政策</a>
  <a href="/{code}/tax/sbf/jfzn/">缴费指南</a>
  <a href="/{code}/tax/hdjl/zxzx/">在线咨询</a>
  <a href="/{code}/tax/xxgk/zfxxgkzn/">政府信息公开指南</a>
</div>
<div class="dqwz">当前位置：<a href="/{code}/tax/">首页</a> &gt; <a href="/{code}/tax/tzgg/">通知公告</a> &gt; 正文</div>
<div class="zw">
  <div class="zw_title">{tax}　{c.name}医疗保障局<br />关于{y}年度职工基本医疗保险费征缴有关事项的通告</div>
  <div class="zw_info"><span>发布日期：{pub}</span><span>来源：{c.name}税务局社会保险费科</span><span>【字体：<a href="javascript:fz(18)">大</a> <a href="javascript:fz(16)">中</a> <a href="javascript:fz(14)">小</a>】</span></div>
  <div class="zw_con {ARTICLE_CLASS}">
    <div class="TRS_Editor">
{chr(10).join(body)}
    </div>
  </div>
  <div class="zw_fj">附件：<a href="/{code}/tax/tzgg/202501/P0202501{spec.index:012d}.pdf">{y}年度职工基本医疗保险费缴费指引.pdf</a></div>
  <div class="xglj">
    <h4>相关链接</h4>
    <ul>
{links}
    </ul>
  </div>
  <div class="zw_tool"><a href="javascript:window.print();">【打印】</a><a href="javascript:window.close();">【关闭】</a></div>
</div>
<div class="foot">
  <p>主办：{tax}　地址：{c.name}{rng.choice(["人民西路", "中心路", "建设大道", "滨河路"])}{rng.randint(1, 500)}号　邮编：{rng.randint(100000, 850000)}</p>
  <p>网站维护电话：{f.phone_center.split("-")[0]}-{rng.randint(2100000, 8899999)}　{ps}ICP备{rng.randint(10000000, 99999999)}号　网站标识码：bm{29030000 + spec.index}</p>
</div>
</div>
</body>
</html>
"""


def main() -> None:  # pragma: no cover - a look at the pages
    import argparse
    import sys

    ap = argparse.ArgumentParser(description="Write N benchmark pages (and their version 1) to a folder.")
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--seed", type=int, default=9)
    ap.add_argument("--version", type=int, default=0)
    ap.add_argument("-o", "--out", type=Path, required=True)
    args = ap.parse_args()
    site = BenchSite(args.n, args.seed)
    sizes = []
    for i in range(args.n):
        page = site.page(i, args.version)
        target = args.out / f"v{args.version}" / page.path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(page.body)
        sizes.append(len(page.body))
    print(f"{args.n} pages in {args.out}: {min(sizes)}..{max(sizes)} bytes, mean {sum(sizes) / len(sizes):.0f}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
