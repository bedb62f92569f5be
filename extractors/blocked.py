"""Is this response a real page, or a wall in front of one?

Bureau sites answer crawlers with verification pages (安全验证, 滑块),
rate-limit notices (访问过于频繁), login walls, or an empty JavaScript shell.
Read as a page, any of these would look like "every figure removed"; the
pipeline counts them as failed fetches instead.
"""
from __future__ import annotations

import re

from .content import Document, document_of

_WALL = re.compile(
    r"安全验证|人机验证|滑动验证|拖动滑块|请完成验证|验证码|访问过于频繁|请求过于频繁|访问频率过高|请稍后再试|"
    r"您的访问已被拦截|访问被拒绝|Access Denied|403 Forbidden|请登录后|登录后查看|请先登录|用户登录|"
    r"enable JavaScript|开启JavaScript|浏览器不支持|正在跳转|Checking your browser|captcha|WAF|网站防火墙|"
    r"安全狗|云盾|加速乐|知道创宇",
    re.I,
)
MIN_TEXT = 20


def wall_reason(text: str, is_html: bool | None = None) -> str | None:
    """Why a page is not content ('verification page', 'empty page'), or None when it is."""
    return document_wall(document_of(text, None, is_html))


def document_wall(doc: Document) -> str | None:
    """The same, for a page already read: the pipeline parses each page once."""
    body = doc.text
    visible = len(re.sub(r"\s", "", body))
    match = _WALL.search(body[:3000]) or _WALL.search(doc.title)
    if match and visible < 1500:
        return f"a verification, rate-limit or login page ({match.group(0)})"
    if visible < MIN_TEXT:
        return f"an empty page ({visible} characters of text)"
    return None
