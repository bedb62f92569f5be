"""One notice as text for people: a plain digest, an HTML digest and Markdown.

Changes are grouped by region, each with old → new, the evidence sentence
and the source link, so a reader can check the figure without opening the
database.
"""
from __future__ import annotations

import html
from itertools import groupby

from .notice import KIND_LABELS, Change, Notice


def subject(notice: Notice) -> str:
    if notice.test:
        return "【yibao-watch】测试通知"
    parts = []
    if notice.changes:
        regions = notice.regions
        shown = "、".join(regions[:4]) + ("等" if len(regions) > 4 else "")
        parts.append(f"医保缴费政策变动：{shown}（{len(notice.changes)}项）")
    if notice.health:
        broken = [h.source_id for h in notice.health if h.state == "broken"]
        parts.append(f"来源异常 {len(broken)} 个" if broken else "来源已恢复")
    return "【yibao-watch】" + "；".join(parts)


def _by_region(changes: tuple[Change, ...]) -> list[tuple[str, list[Change]]]:
    ordered = sorted(changes, key=lambda c: (c.region or "", c.metric))
    return [(region, list(group)) for region, group in groupby(ordered, key=lambda c: c.region or "未定地区")]


def change_line(c: Change) -> str:
    kind = KIND_LABELS.get(c.kind, c.kind)
    if c.kind in ("added",):
        return f"[{kind}] {c.label()}：{c.show(c.new)}"
    if c.kind == "removed":
        return f"[{kind}] {c.label()}：{c.show(c.old)} → —"
    return f"[{kind}] {c.label()}：{c.show(c.old)} → {c.show(c.new)}"


def plain(notice: Notice) -> str:
    lines: list[str] = []
    if notice.test:
        lines.append("这是 yibao-watch 的测试通知：通道配置正确。")
    for region, changes in _by_region(notice.changes):
        lines.append(f"== {region}")
        for c in changes:
            lines.append(change_line(c))
            if c.evidence:
                lines.append(f"    依据：{c.evidence}")
            lines.append(f"    来源：{c.source_url}")
        lines.append("")
    for h in notice.health:
        state = "连续抓取失败" if h.state == "broken" else "已恢复"
        lines.append(f"[来源{state}] {h.source_id} {h.url}（{h.failures} 次）{h.error or ''}")
    return "\n".join(lines).strip() + "\n"


def markdown(notice: Notice) -> str:
    lines: list[str] = [f"### {subject(notice)}"]
    if notice.test:
        lines.append("这是 yibao-watch 的测试通知：通道配置正确。")
    for region, changes in _by_region(notice.changes):
        lines.append(f"**{region}**")
        for c in changes:
            lines.append(f"- {change_line(c)}  ")
            if c.evidence:
                lines.append(f"  > {c.evidence}")
            lines.append(f"  [来源]({c.source_url})")
    for h in notice.health:
        state = "连续抓取失败" if h.state == "broken" else "已恢复"
        lines.append(f"- 来源{state}：`{h.source_id}` {h.url}（{h.failures} 次）{h.error or ''}")
    return "\n".join(lines) + "\n"


def html_digest(notice: Notice) -> str:
    e = html.escape
    parts = [f"<h2>{e(subject(notice))}</h2>"]
    if notice.test:
        parts.append("<p>这是 yibao-watch 的测试通知：通道配置正确。</p>")
    for region, changes in _by_region(notice.changes):
        parts.append(f"<h3>{e(region)}</h3><ul>")
        for c in changes:
            parts.append(
                f"<li><b>{e(change_line(c))}</b><br><small>依据：{e(c.evidence)}</small><br>"
                f'<a href="{e(c.source_url, quote=True)}">{e(c.source_url)}</a></li>'
            )
        parts.append("</ul>")
    if notice.health:
        parts.append("<h3>来源状态</h3><ul>")
        for h in notice.health:
            state = "连续抓取失败" if h.state == "broken" else "已恢复"
            parts.append(f"<li>{e(state)}：{e(h.source_id)} {e(h.url)}（{h.failures} 次）{e(h.error or '')}</li>")
        parts.append("</ul>")
    return "<html><body>" + "".join(parts) + "</body></html>"
