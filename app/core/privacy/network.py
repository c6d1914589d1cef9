"""Emails, URLs, domains and IP addresses.

Addresses are checked by the standard `ipaddress` module (every IPv4 and IPv6 form: compressed,
embedded IPv4, scope ids, CIDR prefixes, IPv4 netmasks and host masks as the prefix; the forms of
CPython's own Lib/test/test_ipaddress.py, short ones such as "::2" and "ff00::" included), and beyond
it IPv4 with leading zeros, an address with a port but no brackets, as logs write them, a pair of
addresses joined to their ports by dots, as tcpdump and netstat print them (tcpdump's service names
for ports too, "10.0.0.1.ssh > 10.0.0.2.51234:"), an address glued to a word that names it
("IP192.168.1.100", "ipv6fe80::1"), the reversed address of a reverse-DNS name
("1.0.0.127.in-addr.arpa", the 32 nibbles before ".ip6.arpa"), threat reports' defanged
"192[.]168[.]0[.]1", and the unspecified address "::" where it stands as one (netstat's ":::22",
nginx's "[::]:443"); a bare domain counts only when its last label is a real top-level
domain in the Public Suffix List (`publicsuffixlist`, bundled, no network).
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from app.core.privacy.spans import CJK, JOINED, Span

if TYPE_CHECKING:
    from publicsuffixlist import PublicSuffixList

# -- emails -------------------------------------------------------------------------------------
# Any domain with a top-level label, IDN ones too ("a@xn--d1acufc.xn--p1ai"); "info@presidio." stays.
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@(?:[\w-]+\.)+(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})(?![\w-])", re.I)


def emails(text: str) -> Iterator[Span]:
    for m in _EMAIL.finditer(text):
        yield Span("EMAIL", m.start(), m.end(), m.group())


# -- URLs and bare domains ------------------------------------------------------------------------
# Any scheme (https, s3, postgres...: connection strings carry passwords) or a www. host.
_URL = re.compile(r"\b(?:[a-z][a-z0-9+.-]{1,15}://|www\.)[^\s<>\"'`]+", re.I)
_DOMAIN = re.compile(
    r"(?<![\w@.+/\\-])(?P<host>(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?P<tld>[a-z]{2,24}|xn--[a-z0-9-]{1,59}))"
    r"(?::\d{1,5})?(?:/[^\s<>\"'`]*)?(?![\w@(-]|\.\w)",  # "df.info()" is a call
    re.I,
)
# Without a scheme or www., a name is a domain only under a country code or a legacy generic
# top-level domain: the newer generic ones are words that dotted names in code end with too
# ("collections.abc", "app.core.store", "response.read"). Country codes that are also file
# extensions or attribute names ("redaction.py", "README.md", "run.sh", "user.id") stay out too.
_BARE_GENERIC = frozenset("com org net edu gov mil int biz info".split())
_NOT_SITES = frozenset("py md sh rs pl pm ps cc ai am in so tf ml mk mm id to is at do st".split())


@functools.cache
def _suffixes() -> PublicSuffixList:
    # Parsed once (35 ms); accept_unknown=False: "foo.notatld" is no domain.
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList(only_icann=True, accept_unknown=False)


def _is_domain(host: str) -> bool:
    """A registrable name under a real top-level domain: "google.co.il", not "www.microsoft"."""
    labels = host.lower().split(".")
    if labels[0] == "www":
        labels = labels[1:]
    return len(labels) >= 2 and _suffixes().privatesuffix(".".join(labels)) is not None


def urls(text: str) -> Iterator[Span]:
    for m in _URL.finditer(text):
        url = _trim_url(m.group())
        host = re.split(r"[/:?#]", url.split("://", 1)[-1], maxsplit=1)[0]
        if "://" in url or _is_domain(host):
            yield Span("URL", m.start(), m.start() + len(url), url)
    for m in _DOMAIN.finditer(text):
        tld = m.group("tld").lower()
        bare_tld = tld in _BARE_GENERIC or (len(tld) == 2 and tld not in _NOT_SITES)
        host = m.group("host")  # one case throughout: "logging.INFO" is a constant
        if not bare_tld or not (host.islower() or host.isupper()) or not _is_domain(host):
            continue
        url = _trim_url(m.group())
        yield Span("URL", m.start(), m.start() + len(url), url)


def _trim_url(url: str) -> str:
    """Drop sentence punctuation after a URL, and a closing bracket it did not open (Markdown links)."""
    while url and (url[-1] in ".,;:!?*" or any(url[-1] == c and url.count(c) > url.count(o) for o, c in ("()", "[]", "{}"))):
        url = url[:-1]
    return url


# -- IP addresses ---------------------------------------------------------------------------------
# Leading zeros too ("192.168.001.010"): `ipaddress` refuses them, but device pages and logs write them
# and inet_aton reads them, so they name a host as well.
_OCTET = r"(?:25[0-5]|2[0-4]\d|[01]?\d?\d)"
_PREFIX = r"(?:/(?P<prefix>\d{1,3})(?!\d|\.\d))?"
# An IPv4 network's prefix may also be a netmask or a host mask ("10.0.0.0/255.0.0.0", "/0.0.0.255").
# An underscore may join an address to a word ("ip_10.0.0.1", "10.0.0.1_db"); a letter, digit or dot may not,
# though an ellipsis may stand before one ("Connecting...10.0.0.1", a range's "10.0.0.1..10.0.0.9").
_NO_DOT_BEFORE = r"(?<!(?<!\.)\.)"
# Only a letter or digit of a script that writes words apart makes an address part of a longer word
# ("IP地址192.168.1.100", "10.0.0.5에서" are addresses).
# A word that names an address may touch it, as mixed-language writing runs them together
# ("IP192.168.1.100", "服务器IP10.0.0.5", "inet6fe80::1"); after any other word a dotted quad is a
# version ("jdk1.8.0.181", "python3.11.2.1"). The digit ending "IPv4" and "IPv6" is the word's:
# "IPv4192.168.0.1" is 192.168.0.1 ("IPv" names nothing, and no octet is 4192). A 4 or 6 and a colon
# after one close a label (SPF's "ip6:2001:db8::/32", "inet6:fe80::1"): "6:2001:db8::" is no address there.
_ADDRESS_WORD = ("(?<=[pPrRtT46])(?:" + "|".join(rf"(?<=(?<!{JOINED})(?i:{w}))" for w in ("ip", "ipv4", "ipv6", "addr", "inet", "inet6"))
                 + ")(?![46]:)")
# The patterns look ahead for an address's start, and behind for a word's last letter, before those
# look-behinds: tried after every letter of a text, they would make the scan three times slower.
_NOT_JOINED = rf"(?:(?<!{JOINED})|{_ADDRESS_WORD})"
_IPV4 = re.compile(
    rf"(?=\d){_NOT_JOINED}{_NO_DOT_BEFORE}(?P<ip>{_OCTET}(?:\.{_OCTET}){{3}})(?!{JOINED}|\.\d)"
    rf"(?:/(?P<prefix>\d{{1,3}}(?!\d|\.\d)|{_OCTET}(?:\.{_OCTET}){{3}}(?!\w|\.\d)))?"
)
# A dotted quad right after a version word is a version ("version 1.2.3.4", "版本1.2.3.4"), not an address.
VERSION_WORD = re.compile(r"(?:\b(?:version|ver|release|build|firmware|v)|版本号?|バージョン|버전)[\s.:=：]*$", re.I)
# A port may follow an address written without brackets ("::ffff:192.0.2.1:8080"); the groups of a
# full address before one are split off in ips(). An address starts with a group or "::", never one
# colon: after "en0+:" the address is what follows it. An underscore or an ellipsis may stand before one, as
# before an IPv4 ("pcap_2001:db8::1"); a short form after an underscore is a C++ name (`type_a::b`).
# A colon and a space after an address close the phrase, after an embedded IPv4 too ("from
# ::ffff:192.0.2.3: Invalid username", ejabberd).
_IPV6 = re.compile(
    r"(?=[0-9A-Fa-f]{0,4}:)" + _NOT_JOINED + _NO_DOT_BEFORE + r"(?<!::)(?!:(?!:))(?P<ip>(?:[0-9A-Fa-f]{0,4}:){2,8}(?:[0-9A-Fa-f]{1,4}|\d{1,3}(?:\.\d{1,3}){3})?(?:%[\w.-]*[\w-])?)"
    rf"(?::[1-9]\d{{1,4}}(?![\w:.%/]))?(?!{JOINED}|:(?!\s|$)|%[\w.-]|\.\w){_PREFIX}"
)
# Threat reports defang an address so that nobody clicks it ("192[.]168[.]0[.]1", "10(.)0(.)0(.)5",
# "8[dot]8[dot]8[dot]8"); it still names the host.
_DEFANGS = (r"\[\.\]", r"\(\.\)", r"\{\.\}", r"\[dot\]", r"\(dot\)")
_DEFANG = "(?:" + "|".join(_DEFANGS) + ")"
_NO_DEFANG_BEFORE = "".join(f"(?<!{d})" for d in _DEFANGS)  # not the 2nd-5th numbers of "1[.]2[.]3[.]4[.]5"
_DEFANGED_IPV4 = re.compile(rf"(?<![\w.]){_NO_DEFANG_BEFORE}{_OCTET}(?:(?:\.|{_DEFANG}){_OCTET}){{3}}(?!\w|\.\d|{_DEFANG}\d)", re.I)
# tcpdump, macOS netstat and Dante join an address and its port with a dot ("192.168.1.11.43966 >
# 209.87.249.18.53:", "fe80::1.546 > ff02::1:2.547:", "10.0.0.5.52344  17.57.144.22.5223"). Five dotted
# numbers alone are more often a DOI ("doi=10.1.1.42.2777"), an OID ("1.3.132.0.34") or a section
# ("7.2.1.5.69"), so only a pair of them side by side, as those tools print source and destination, counts;
# without tcpdump's arrow a port of one digit is a version's fifth number ("1.2.3.4.5 1.2.3.4.6").
# Run without -n, tcpdump names a known port ("10.0.0.1.ssh > 10.0.0.2.51234:", "fe80::1.dhcpv6-client >
# ff02::1:2.dhcpv6-server:"); a name counts beside its arrow only, as a dotted name alone is a file's ("1.2.3.4.txt").
_DOTTED_END = rf"(?:{_OCTET}(?:\.{_OCTET}){{3}}|(?:[0-9A-Fa-f]{{0,4}}:){{2,7}}[0-9A-Fa-f]{{0,4}})"
_DOTTED_PORT = r"(?:\d{1,5}|[A-Za-z][A-Za-z0-9-]*)"
_DOTTED_PORT_PAIR = re.compile(
    rf"(?<![\w.:])(?P<a>{_DOTTED_END})\.(?P<pa>{_DOTTED_PORT})(?P<arrow>[ \t]+>)?[ \t]+(?P<b>{_DOTTED_END})\.(?P<pb>{_DOTTED_PORT})(?![\w-]|\.\d)"
)
# A reverse-DNS name holds its address reversed: "1.0.0.127.in-addr.arpa" is _IPV4's, an ip6.arpa
# name's 32 nibbles are one address ("b.a.9.8...0.1.2.3.4.ip6.arpa" is 4321:0:1:2:3:4:567:89ab). They
# are read back from the suffix, which is found 20 times faster than a pattern that starts with them.
_IP6_ARPA = re.compile(r"\.ip6\.arpa\b", re.I)
_NIBBLES = re.compile(r"(?<![\w.])(?:[0-9a-f]\.){31}[0-9a-f]", re.I)  # 63 characters


def ips(text: str) -> Iterator[Span]:
    pos = 0
    while m := _IPV4.search(text, pos):
        span = _with_prefix(m)
        pos = span.end  # a "/..." that is no valid prefix may be the next address ("10.0.0.1/10.0.0.9")
        if not VERSION_WORD.search(text[max(0, m.start() - 12) : m.start()]):
            yield span
    for m in _IPV6.finditer(text):
        if text[m.start() - 1 : m.start()] == ":" and not _LABEL_BEFORE.search(text[max(0, m.start() - 40) : m.start()]):
            continue  # inside a longer run of groups ("text2001:db8::1")
        before = text[max(0, m.start() - 2) : m.start()]
        if m.group("ip").endswith(":") and not m.group("ip").endswith("::"):
            ip = m.group("ip")[:-1]  # a colon that closes a phrase ("refused by 2001:db8::1: timeout")
            if _plausible_ipv6(ip, cidr=False, before=before, after=":"):
                yield Span("IP", m.start(), m.start() + len(ip), ip)
            continue
        span = _with_prefix(m)
        if m.group("ip") == "::" and span.end == m.end("ip"):
            if before.endswith("_"):
                continue  # a reST link's "`RFC4634`_::", not an address
            if _UNSPECIFIED_BEFORE.search(text[max(0, m.start() - 12) : m.start()]) or _UNSPECIFIED_AFTER.match(text, m.end()):
                yield span
        elif _plausible_ipv6(m.group("ip"), cidr=span.end > m.end("ip"), before=before, after=text[span.end : span.end + 1]):
            yield span
        elif ip := _before_port(m.group("ip")):
            yield Span("IP", m.start(), m.start() + len(ip), ip)
    for m in _UNSPECIFIED_PORT.finditer(text):
        yield Span("IP", m.start("ip"), m.end("ip"), "::")
    for m in _DEFANGED_IPV4.finditer(text):
        if re.search(_DEFANG, m.group(), re.I):  # a plain dotted quad is _IPV4's
            yield Span("IP", m.start(), m.end(), m.group())
    for m in _DOTTED_PORT_PAIR.finditer(text):
        if VERSION_WORD.search(text[max(0, m.start() - 12) : m.start()]):
            continue
        ends = [(m.group(end), m.start(end)) for end in ("a", "b")]
        ports = [m.group("pa"), m.group("pb")]
        ports_ok = all(int(p) <= 65535 and (m.group("arrow") or re.fullmatch(r"[1-9]\d+", p)) if p.isdigit() else m.group("arrow")
                       for p in ports)
        # an IPv6 end must pass as one written alone would: "Dead::Beef.12" stays a name
        plausible = all(":" not in a or _plausible_ipv6(a, cidr=False, before=text[max(0, at - 2) : at], after=".")
                        for a, at in ends)
        if ports_ok and plausible:
            for address, at in ends:
                yield Span("IP", at, at + len(address), address)
    for m in _IP6_ARPA.finditer(text):
        if m.start() >= 63 and _NIBBLES.fullmatch(text, m.start() - 63, m.start()):
            yield Span("IP", m.start() - 63, m.start(), text[m.start() - 63 : m.start()])


# Right after a label's colon ("addr:fe80::1", "host:2001:db8::1", "IPv6:2001:db8::1", "地址:fe80::1"): a
# word of letters, one of them past "f" or Chinese, Japanese, Korean so that it cannot be an address group
# itself, and at most one closing digit ("text2001:" is no label), maybe flagged (macOS configd's "v6(en0+:2607:f140::1)").
_LABEL_BEFORE = re.compile(rf"(?<![\w-])[A-Za-z_{CJK}-]*[G-Zg-z_{CJK}-][A-Za-z_{CJK}-]*\d?[+!*]?:$")

# The unspecified address "::" alone, only as a value ("src=::"), after a word that introduces an
# address ("binds to :: and", "addr: ::,"), closing a line or sentence ("listen on ::"), or before a
# port ("listen [::]:443", netstat's ":::22" and ":::*"); "f :: Int" (Haskell), "a[::]", "std::" and
# Make's ":::=" stay code.
_UNSPECIFIED_BEFORE = re.compile(r"(?:=|\b(?:on|to|at|from|via|address|addr|ip|ipv6|bind|listen|host)\s*:?)\s*$", re.I)
_UNSPECIFIED_AFTER = re.compile(r"[.,;!?)]?[ \t]*(?:$|\n)")
_UNSPECIFIED_PORT = re.compile(r"(?<![\w:\])\[])(?P<open>\[)?(?P<ip>::)(?(open)\])(?=:(?:[1-9]\d{0,4}|\*)(?![\w:.]))")


def _with_prefix(m: re.Match[str]) -> Span:
    """The address, and its /prefix when that makes a valid network (a CIDR range is redacted whole)."""
    end = m.end("ip")
    if m.group("prefix"):
        try:
            ipaddress.ip_network(f"{unpadded(m.group('ip').split('%')[0])}/{m.group('prefix')}", strict=False)
            end = m.end()
        except ValueError:
            pass
    return Span("IP", m.start(), end, m.string[m.start() : end])


def _before_port(candidate: str) -> str | None:
    """The full eight-group address before a port ("2001:db8:85a3:0:0:8a2e:370:7334:8080"), when
    the groups are an address's, not a count ("1:2:3:4:5:6:7:8:9" stays)."""
    head, _, port = candidate.rpartition(":")
    if not re.fullmatch(r"[1-9]\d{1,4}", port) or int(port) > 65535 or "::" in head or head.count(":") != 7:
        return None
    try:
        ipaddress.IPv6Address(head)
    except ValueError:
        return None
    return head if any(len(g) >= 3 for g in head.split(":")) else None


def unpadded(ip: str) -> str:
    """ "010.000.000.001" -> "10.0.0.1" (IPv6 unchanged), so that `ipaddress` checks its prefix."""
    return ".".join(str(int(part)) for part in ip.split(".")) if ":" not in ip else ip


def _plausible_ipv6(candidate: str, cidr: bool, before: str, after: str) -> bool:
    """A valid address that is not code: three groups or more, a network with its prefix
    (fd00::/8), an embedded IPv4 or a scope id stand alone; a short one ("::2", "ff00::", "1::",
    CPython's test_ipaddress forms) too, unless it is a subscript (`a[1::2]`, `x[::2]`), a call
    (`Face::add(`), a name in mixed case (`Dead::Beef`, not "Fe80::1") or one after an underscore
    (C++'s `type_a::b`)."""
    try:
        ipaddress.IPv6Address(candidate)
    except ValueError:
        return False
    groups = [g for g in candidate.split("%")[0].split(":") if g]
    if len(groups) >= 3 or cidr or "." in candidate or "%" in candidate:
        return True
    subscript = re.search(r"[\w)\]]\[$", before) is not None
    named = any(g[0].isupper() and not g.isupper() and g.isalpha() for g in groups)  # "Fe80::1" has a digit
    return not (subscript or named or after == "(" or before.endswith("_"))
