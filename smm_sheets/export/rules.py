"""The schedulers' rules, checked before a bulk file is written: each rule is a small function
that takes the posts still in the file and yields a finding for each post that breaks it.

A post that breaks a rule is left out of the file and reported with its row; none is changed.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Iterator
from urllib.parse import urlsplit

from smm_sheets.analyser.findings import ERROR, WARNING, Finding
from smm_sheets.export.posts import Post

# What a spreadsheet app reads as the start of a formula (OWASP, CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PRIVATE_SUFFIXES = (".local", ".localhost", ".internal", ".lan", ".home", ".corp", ".intranet", ".test", ".invalid")


def message(post: Post) -> str:
    """The text a scheduler posts: the caption exactly as written, then the hashtags (if any)
    after a blank line."""
    caption, hashtags = post.caption, post.text("hashtags").strip()
    if hashtags:
        return f"{caption}\n\n{hashtags}" if caption else hashtags
    return caption


def needs_time(posts: list[Post]) -> Iterator[tuple[Post, Finding]]:
    """Schedulers post at a time: a post with a date only cannot be scheduled."""
    for post in posts:
        if post.start is None:
            yield post, post.finding("no-time", ERROR, "not exported: the post has no time; schedulers need one")


def five_minute_steps(posts: list[Post]) -> Iterator[tuple[Post, Finding]]:
    """Hootsuite: times end in 0 or 5 minutes."""
    for post in posts:
        start = post.start
        if start is not None and (start.minute % 5 or start.second):
            yield (
                post,
                post.finding(
                    "time-not-on-step",
                    ERROR,
                    f"not exported: {start:%H:%M:%S} is not on a 5-minute step (Hootsuite takes :00, :05, ... :55)",
                ),
            )


def in_the_future(now: dt.datetime, minutes: int = 10):
    """Hootsuite and Sprout Social: at least ``minutes`` after the upload (taken as now)."""

    def rule(posts: list[Post]) -> Iterator[tuple[Post, Finding]]:
        earliest = now + dt.timedelta(minutes=minutes)
        for post in posts:
            start = post.start
            if start is not None and start < earliest:
                yield (
                    post,
                    post.finding(
                        "not-in-future",
                        ERROR,
                        f"not exported: {start:%Y-%m-%d %H:%M} {start.tzname()} is less than {minutes} minutes "
                        f"after now ({now.astimezone(start.tzinfo):%Y-%m-%d %H:%M})",
                    ),
                )

    return rule


def apart_per_channel(minutes: int = 10):
    """Sprout Social: posts at least ``minutes`` apart on one profile (a channel here)."""

    def rule(posts: list[Post]) -> Iterator[tuple[Post, Finding]]:
        last: dict[str, Post] = {}
        for post in sorted(posts, key=lambda p: (p.start or dt.datetime.min.replace(tzinfo=dt.timezone.utc), p.row)):
            if post.start is None:
                continue
            before = last.get(post.channel.casefold())
            if before is not None and post.start - before.start < dt.timedelta(minutes=minutes):
                yield (
                    post,
                    post.finding(
                        "too-close",
                        ERROR,
                        f"not exported: {post.start:%Y-%m-%d %H:%M} is less than {minutes} minutes after the "
                        f"{post.channel} post in row {before.row} ({before.start:%H:%M})",
                    ),
                )
                continue
            last[post.channel.casefold()] = post

    return rule


def within_caption_limit(posts: list[Post]) -> Iterator[tuple[Post, Finding]]:
    """The text (caption and hashtags) within the channel's limit (the calendar's Settings sheet)."""
    for post in posts:
        limit = post.values.get("caption_limit_post")
        if not isinstance(limit, (int, float)) or isinstance(limit, bool) or limit <= 0:
            continue
        length = len(message(post))
        if length > limit:
            yield (
                post,
                post.finding(
                    "caption-over-limit",
                    ERROR,
                    f"not exported: the text has {length} characters; {post.channel} allows {int(limit)}",
                ),
            )


def public_media(posts: list[Post]) -> Iterator[tuple[Post, Finding]]:
    """Media addresses a scheduler can download: http(s), a public host, no password."""
    for post in posts:
        for url in post.media_urls:
            problem = url_problem(url)
            if problem is not None:
                yield post, post.finding("media-not-public", ERROR, f"not exported: media {url!r} {problem}")
                break


def url_problem(url: str) -> str | None:
    """Why ``url`` is not an address anyone on the internet can fetch, or None."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return "is not an address"
    if parts.scheme.lower() not in ("http", "https"):
        return "is not an http(s) address"
    if not host:
        return "has no host"
    if parts.username or parts.password:
        return "carries a user name or password"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        if "." not in host or host.lower() == "localhost" or host.lower().endswith(_PRIVATE_SUFFIXES):
            return "is on a local or private network"
        return None
    if not address.is_global:
        return "is on a local or private network"
    return None


def formula_like(posts: list[Post]) -> Iterator[Finding]:
    """A warning (the post stays) where the text starts as a formula does in a spreadsheet app."""
    for post in posts:
        text = message(post)
        if text.startswith(FORMULA_STARTS[:4]):
            yield post.finding(
                "caption-like-formula",
                WARNING,
                f"the text starts with {text[0]!r}: written as it is, but a spreadsheet app opening this file "
                "would read it as a formula (upload the file without opening and saving it in one)",
            )


def apply(posts: list[Post], rules) -> tuple[list[Post], list[Finding]]:
    """The posts that keep every rule, and a finding per post left out (the first rule it breaks)."""
    findings: list[Finding] = []
    kept = list(posts)
    for rule in rules:
        broken = {}
        for post, found in rule(kept):
            if id(post) not in broken:
                broken[id(post)] = found
        findings.extend(broken.values())
        kept = [post for post in kept if id(post) not in broken]
    return kept, findings
