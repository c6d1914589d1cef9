"""Keys, tokens and passwords.

Most of it comes from Yelp's `detect-secrets`, used through its API and never its scanner (whose
verify step would call providers over the network): the patterns of its provider plugins
(Artifactory, AWS, Azure, Discord, GitHub, GitLab, Mailchimp, npm, PyPI, SendGrid, Slack,
Stripe, Telegram, Twilio...), its keyword rules (`password = "..."`, `db_pass: ...`,
`"..." != passwd`), its quoted high-entropy strings and its heuristic filters. Ours adds what it
lacks: whole JWTs and PEM blocks (its patterns stop at the payload and at the BEGIN line; an
unsigned JWT and a key cut off before its END line count too), newer key prefixes, Bearer
tokens, a password after a user name in prose ("login snoop pw biggreenhat", "u: snoop / p:
..."), values assigned to a secret name in any syntax (`secret[] = ...`, `password => ...`),
and unquoted random-looking tokens. The keyword rules of every language detect-secrets knows are
tried on every text (it picks them by file extension; a request has none).

From gitleaks (MIT; its rules in cmd/generate/config/rules/*.go), read as patterns, not run: the
assignment operators its sample secrets are written with (`?=`, `.=`, `::=`, `:::=`, `var x string
=`, backticks, `setProperty("X_TOKEN", "...")`), the provider prefixes of _PREFIXED (those no word
or file name starts with; the rest of its rules are a provider name near a generic token, which the
assignment and random-token rules already cover) and the `curl -u user:password` rule. Not adopted:
its placeholder filters ("AKIAXXXX...", "...EXAMPLE"), since detect-secrets' own tests count such
masked keys as secrets and a false alarm costs less than a miss. Base36 keys of one case (many of
gitleaks' and trufflehog's test keys) count by how letters and digits interleave (_single_case_random),
and a secret found once is redacted wherever its value repeats.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from collections.abc import Iterator

from app.core.privacy.spans import Span, pattern_spans

# Share of the most entropy a string of its length can have (see token_entropy). Random base62/64
# tokens of 20-100 characters score at least 0.80 99.98% of the time (0.83: 99.4%; simulated);
# identifiers built from words score lower ("UserProfileSerializerV2Test" 0.78). On
# tests/data/redaction.jsonl any value from 0.75 to 0.85 gives the same result; above 0.87 real tokens
# start to be missed. 0.80 rather than 0.83 (recall first): 13 more of the 2,217 gitleaks/trufflehog dev
# secrets caught for one more of their 268 negatives flagged.
ENTROPY_THRESHOLD = 0.80

# A secret's name in code and config, in the languages of the phone regions too.
_SECRET_WORDS = (
    r"(?i:key|secret|token|password|passwd|passphrase|pass|pwd|passwort|kennwort|mot de passe|senha|wachtwoord"
    r"|l[öo]senord|has[łl]o|salasana|adgangskode|passord|contrase[ñn]a|パスワード|密码|密碼|비밀번호)"
)
_OURS = re.compile(
    r"(?=[srgxAehdyl<-])(?:"  # every alternative starts with one of these: a quick test at each position
    r"\bsk-[A-Za-z0-9_-]{20,}"  # OpenAI (sk-, sk-proj-), Anthropic (sk-ant-)
    r"|\b[rs]k_(?:live|test)_[A-Za-z0-9]{16,}"  # Stripe, test keys and any length
    r"|\bgh[pousr]_[A-Za-z0-9]{30,}|\bgithub_pat_[A-Za-z0-9_]{22,}"  # GitHub
    r"|\bxox[abposr]-[A-Za-z0-9-]{10,}"  # Slack
    r"|\bAIza[0-9A-Za-z_-]{35}|\bya29\.[0-9A-Za-z_-]{20,}"  # Google API key, OAuth access token
    r"|\bhf_[A-Za-z0-9]{30,}"  # Hugging Face
    r"|\bdo[opr]_v1_[a-f0-9]{64}"  # DigitalOcean
    r"|\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}"  # Shopify
    r"|\bgl(?:c|sa)_[A-Za-z0-9_]{32,}"  # Grafana
    r"|\bdckr_pat_[A-Za-z0-9_-]{27,}"  # Docker Hub
    r"|\blin_api_[A-Za-z0-9]{40}"  # Linear
    r"|\bxapp-\d-[A-Z0-9]+-\d+-[a-f0-9]{32,}"  # Slack app-level
    # XML: <password>...</password>, <add key="ApiSecret" value="..."/>
    rf"|<(?P<tag>[\w:.-]*{_SECRET_WORDS}[\w:.-]*)>\s*(?P<x>[^<\s](?:[^<\n]{{0,198}}[^<\s])?)\s*</(?P=tag)>"
    rf"|<[^<>]*\b(?:key|name)=\"[^\"]*{_SECRET_WORDS}[^\"]*\"\s+value=\"(?P<xv>[^\"]{{4,}})\""
    r"|\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}(?:\.[A-Za-z0-9_-]*)?"  # JWT: header.payload[.signature]
    # A PEM private key to its END line, or, cut off before it, its BEGIN line and the lines after up to a blank one.
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----(?:[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----|[^\n]*(?:\n[^\n]+)*))"
)
# Provider prefixes that mark a token whatever its body's case, adopted from gitleaks' rules
# (cmd/generate/config/rules/*.go: GitLab, New Relic, Perplexity, RubyGems, HashiCorp Vault,
# PlanetScale, Sentry, Brevo, Shippo, Dynatrace, Doppler, Duffel, npm, Notion, Pulumi, ReadMe,
# Sourcegraph, Typeform, Frame.io, Fly.io, OpenShift, 1Password, Hugging Face orgs, Slack config,
# Buildkite, SpectralOps, Bitbucket Data Center): only prefixes that no word or file name starts with.
_PREFIXED = re.compile(
    r"(?<![\w.-])(?:gl(?:pat|rt|cbt|dt|ffct|ft|imt|agent|oas|ptt|soat)-|NR(?:II|AK|JS|AA)-|pplx-|rubygems_|hv[sb]\."
    r"|pscale_(?:tkn|pw|oauth)_|sntry[su]_|xkeysib-|shippo_(?:live|test)_|dt0c01\.|dp\.(?:pt|st|ct|sa|scim)\."
    r"|duffel_(?:live|test)_|npm_|ntn_|pul-|rdme_|sgp_|tfp_|fio-u-|fo1_|sha256~|ops_|api_org_|xox[ep]-|bkua_|spu-"
    r"|BBDC-|tkn\.v1_|pnu_|sm_[aps]at_|lsv2_(?:pt|sk)_|sk-ant-(?:api|admin)\d\d-|(?:live|test)_(?:pub_)?(?=[a-f0-9]{24}))"
    r"(?=[\w.~=+/-]*\d)[\w.~=+/-]{16,}"
)
# `curl -u user:password`, `curl --user 'user:password'` (gitleaks' curl-auth-user rule, simplified),
# the command continued over lines with a backslash.
_CURL_USER = re.compile(r"\bcurl\b(?:[^\n]|\\\n)*?\s(?:-u|--user)(?:=|\s+)[\"']?(?P<v>[^\s\"':]+:[^\s\"']+)")
_BEARER = re.compile(r"\bBearer\s+(?P<v>[A-Za-z0-9._~+/-]{16,}=*)")
# `api_key = ...`, `"client_secret": "..."`, `DB_PASSWORD=...`, `secret[] = ...`, `password => ...`,
# `pwd := ...`, `key = @"..."`, "the password is ...": the value, whatever its shape, once it holds a
# letter and a digit, or a letter and three kinds of symbol ("password: ********" stays).
_ASSIGNED = re.compile(
    rf"{_SECRET_WORDS}[\"'`\]]?(?:\[\d*\])?(?:[ \t]+(?:string|str|String|const|char\*?))?"
    r"(?:\s*(?:=>|:{1,3}=|[?.+|]=|[:=：])|\s+(?i:is)|(?<=[\"'])\s*,)\s*@?[\"'`]?"
    r"(?P<v>[^\s\"'`,;]{8,})"
)
_SYMBOL = re.compile(r"[!#$%&*+<>?@^{}|~\[\]()]")
# "login snoop pw biggreenhat", "UserName snoop PassWord biggreenhat": a user name, then a password
# word; or a "u:" line, then a "p:" line.
_USER_PASSWORD = re.compile(
    r"(?im)\b(?:user(?:\s?name)?|login)\s*[:=]?\s*\S+\s+(?:password|passwd|pwd|pw|pass)\s*[:=]?\s*(?P<v>[^\s\"'`]+)"
    r"|^[ \t]*u[ \t]*:[ \t]*\S+[ \t]*\n[ \t]*p[ \t]*:[ \t]*(?P<p>[^\s\"'`]+)"
)
# Values that say they are none: "a-fake-api-key", "insert_key_here", "changeme" (detect-secrets'
# own tests exclude "fake" the same way).
_PLACEHOLDER_VALUE = re.compile(r"(?i)fake|dummy|placeholder|insert\w*here|changeme")
_WORD = re.compile(r"[A-Z][a-z]{3,}|[a-z]{4,}")
_SEGMENT = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
# Runs averaging this long are words and numbers: of 20,000 random base62 tokens of 20 characters, 0.1%
# average 4 or more (of 30 and more characters, fewer still); the AWS docs' example secret averages 3.2.
LONG_SEGMENTS = 4.0
_TOKEN = re.compile(r"(?<![\w+/.-])[A-Za-z0-9_+/-]{20,}={0,2}(?![\w+/=-])")
# A quoted hex string after a digest word is a hash ("hexdigest() == '00ac...'", "sha256: ..."), not a key.
_DIGEST_WORD = re.compile(r"(?i)(?:sha\d*|md5|hash|digest|checksum|commit|etag)")
_TYPE_NAMES = frozenset("str int bool float bytes None dict list string number boolean any object Optional".split())
_IDENTIFIER = re.compile(r"[A-Za-z_][\w.]*")
# How far from a key word a value may reach (detect-secrets' own values are at most 64 characters
# in the assignment patterns, after a prefix such as "ibm-cloud_iam_"); a longer keyword value is
# cut there, its start still redacted.
_ASSIGNED_BEFORE, _ASSIGNED_REACH = 48, 160
_KEYWORD_REACH = 512
_COMPARED = re.compile(r"[=!]=\s*\w*$")
_ASSIGNMENT_BEGIN = r"(?:(?<=\W)|(?<=^))"
# The plugins covered better above, or not secrets at all here.
_SKIPPED_PLUGINS = {"IPPublicDetector", "JwtTokenDetector", "PrivateKeyDetector"}
# Patterns that must match a whole word: detect-secrets' master anchors the Telegram one (commit
# efc122a, after 1.5.0: "arn:aws:sns:...:111122223333:aaa..." is no bot token); anchored to the
# word here, not the line, since a request is prose.
_WHOLE_WORD = {"TelegramBotTokenDetector": lambda p: re.compile(rf"(?<![\w:]){p.pattern}(?![\w-])", p.flags)}


def secrets(text: str) -> Iterator[Span]:
    lib = _detect_secrets()
    found = [*_plugin_findings(lib, text), *_keyword_findings(lib, text), *_entropy_findings(lib, text), *_our_findings(text)]
    yield from found
    yield from _repeated(text, found)


def _repeated(text: str, found: list[Span]) -> Iterator[Span]:
    """Every other occurrence of a secret found once: a key pasted twice is no less a key where its
    second copy stands in a place no rule reads ("token = 'x' | 'x'")."""
    for value in {s.value for s in found if len(s.value) >= 8}:
        start = text.find(value)
        while start >= 0:
            if not any(s.start <= start < s.end for s in found):
                yield Span("SECRET", start, start + len(value), value)
            start = text.find(value, start + len(value))


def _plugin_findings(lib: _DetectSecrets, text: str) -> Iterator[Span]:
    for pattern in lib.patterns:
        yield from _plugin_spans(pattern, pattern.finditer(text))
    # The assignment patterns (`cloudant_pw = ...`) only near a key word, each hit in a window of
    # its own line: on a long line, a search of the whole line per pattern costs tens of ms.
    windows: list[list[int]] = []
    for hit in lib.assignment_word.finditer(text):
        start, end = _window(text, hit, _ASSIGNED_BEFORE, _ASSIGNED_REACH)
        if windows and start <= windows[-1][1]:
            windows[-1][1] = max(windows[-1][1], end)  # overlapping windows lie on one line: merged
        else:
            windows.append([start, end])
    for start, end in windows:
        for pattern in lib.assignment_patterns:
            for span in _plugin_spans(pattern, pattern.finditer(text, start, end)):
                if not _PLACEHOLDER_VALUE.search(span.value):
                    yield span


def _keyword_findings(lib: _DetectSecrets, text: str) -> Iterator[Span]:
    """detect-secrets' keyword rules, tried at each keyword (they all start with one, but for the
    comparison `"..." == password`), and reading at most _KEYWORD_REACH characters on."""
    for hit in lib.keyword.finditer(text):
        start, end = _window(text, hit, _KEYWORD_REACH, _KEYWORD_REACH)
        for pattern, group in lib.keyword_patterns:
            if pattern is lib.preceded_pattern:
                if not _COMPARED.search(text, max(start, hit.start() - 16), hit.start()):
                    continue
                m = pattern.search(text, start, min(end, hit.end() + 32))
            else:
                m = pattern.match(text, hit.start(), end)
            if m and m.group(group):
                span = _unquoted_word(Span("SECRET", m.start(group), m.end(group), m.group(group)), text)
                if not lib.filtered(span.value, _line(text, hit.start())):
                    yield span


def _window(text: str, hit: re.Match[str], before: int, after: int) -> tuple[int, int]:
    """Where to look around a hit: so far either side, within its line (detect-secrets' rules
    read a line at a time)."""
    line_start, line_end = _line_bounds(text, hit.start(), hit.end())
    return max(line_start, hit.start() - before), min(line_end, hit.end() + after)


def _entropy_findings(lib: _DetectSecrets, text: str) -> Iterator[Span]:
    """Quoted strings above detect-secrets' entropy limits (4.5 bits a character in base64, 3 in hex)."""
    for plugin in (lib.base64, lib.hex):
        for m in plugin.regex.finditer(text):
            value, line = m.group(2), _line(text, m.start())
            if plugin.calculate_shannon_entropy(value) <= plugin.entropy_limit or lib.filtered(value, line):
                continue
            if plugin is lib.hex and _DIGEST_WORD.search(line[: line.find(value)]):
                continue
            yield Span("SECRET", m.start(2), m.end(2), value)


def _our_findings(text: str) -> Iterator[Span]:
    for m in _OURS.finditer(text):
        if m.group("x") or m.group("xv"):  # an XML value: not under a plist's bare <key>, nor a template
            group = "x" if m.group("x") else "xv"
            if (m.group("tag") or "").lower() == "key" or _detect_secrets().filtered(m.group(group), _line(text, m.start())):
                continue
        else:
            group = 0
        yield Span("SECRET", m.start(group), m.end(group), m.group(group))
    yield from pattern_spans("SECRET", _PREFIXED, text)
    for span in pattern_spans("SECRET", _CURL_USER, text, "v"):
        password = span.value.split(":", 1)[1]  # "$USER:$PASS" and "username:password" are no credentials
        if "$" not in span.value and not re.fullmatch(r"[a-z]+", password):
            yield span
    yield from pattern_spans("SECRET", _BEARER, text, "v")
    yield from pattern_spans("SECRET", _USER_PASSWORD, text, "v")
    yield from pattern_spans("SECRET", _USER_PASSWORD, text, "p")
    for span in pattern_spans("SECRET", _ASSIGNED, text, "v"):
        if "://" in span.value or _PLACEHOLDER_VALUE.search(span.value):
            continue
        if not re.search(r"[A-Za-z]", span.value):
            if re.fullmatch(r"\d{16,}", span.value):  # a numeric key or client id ("discord_token=5921...")
                yield span
            continue
        if re.search(r"\d", span.value):
            yield span
        elif len(set(_SYMBOL.findall(span.value))) >= 3 and not _detect_secrets().filtered(span.value, _line(text, span.start)):
            yield span
    for span in pattern_spans("SECRET", _TOKEN, text):
        if _random_looking(span.value):
            yield span


def _plugin_spans(pattern: re.Pattern[str], matches: Iterator[re.Match[str]]) -> Iterator[Span]:
    """The value a plugin pattern captures (or its whole match), without the quote, space or '='
    some patterns take around it."""
    for m in matches:
        start, end = m.span(next((i for i in range(1, pattern.groups + 1) if m.group(i)), 0))
        while start < end and m.string[start] in " \t\n=:\"'":
            start += 1
        while end > start and m.string[end - 1] in " \t\n\"'":
            end -= 1
        yield Span("SECRET", start, end, m.string[start:end])


# An expression, not a value: "api_key or None", "QInputDialog | None = None".
_CODE_AFTER = re.compile(r"\s(?:or|if|\||=|==|\+)\s")


def _unquoted_word(span: Span, text: str) -> Span:
    """A keyword rule's value ends at the line's end (detect-secrets reads a line at a time), as
    a quoted one does and one after `key: ` or `key = ` (YAML, INI: "secret: two words"); one
    written shell-style ends at its first space ("DB_PASSWORD=x -p 8000" is a password and a flag)
    or semicolon."""
    if span.start > 0 and text[span.start - 1] in "\"'`":
        return span
    spaced = re.search(r"(?::|\s=)[ \t]+$", text[max(0, span.start - 8) : span.start])
    if spaced and not _CODE_AFTER.search(span.value):
        value = span.value.rstrip()
    else:  # also ends at a ';' ("Password=x;Encrypt=true", "AccountKey=...;EndpointSuffix=...")
        value = re.split(r"[\s;]", span.value, maxsplit=1)[0]
    return Span("SECRET", span.start, span.start + len(value), value)


def _line_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    line_end = text.find("\n", end)
    return text.rfind("\n", 0, start) + 1, len(text) if line_end < 0 else line_end


def _line(text: str, at: int) -> str:
    start, end = _line_bounds(text, at, at)
    return text[start:end]


class _DetectSecrets:
    """detect-secrets' patterns, keyword rules, entropy plugins and filters, loaded once."""

    def __init__(self) -> None:
        from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
        from detect_secrets.filters import heuristic
        from detect_secrets.plugins import keyword
        from detect_secrets.plugins.base import RegexBasedDetector
        from detect_secrets.plugins.high_entropy_strings import Base64HighEntropyString, HexHighEntropyString

        plugins = get_mapping_from_secret_type_to_class().values()  # every built-in plugin class
        patterns = [
            _WHOLE_WORD.get(cls.__name__, lambda p: p)(pattern)
            for cls in plugins
            if issubclass(cls, RegexBasedDetector) and cls.__name__ not in _SKIPPED_PLUGINS
            for pattern in cls.denylist
        ]
        # Patterns built by build_assignment_regex (`cloudant_pw = ...`) need a key word on the
        # line: tried only there, they cost a tenth.
        assigned = [p for p in patterns if p.pattern.startswith(_ASSIGNMENT_BEGIN)]
        self.patterns = [p for p in patterns if p not in assigned]
        self.assignment_patterns = assigned
        self.assignment_word = re.compile(r"key|pwd|pw|pass|token", re.I)
        self.keyword_patterns = list({
            **keyword.QUOTES_REQUIRED_DENYLIST_REGEX_TO_GROUP,
            **keyword.CONFIG_DENYLIST_REGEX_TO_GROUP,
            **keyword.GOLANG_DENYLIST_REGEX_TO_GROUP,
            **keyword.COMMON_C_DENYLIST_REGEX_TO_GROUP,  # `password = @"..."`, `char secret[25] = "..."`
            **keyword.C_PLUS_PLUS_REGEX_TO_GROUP,  # `std::string secret("...")`, `secret.assign("...")`
        }.items())
        self.preceded_pattern = keyword.PRECEDED_BY_EQUAL_COMPARISON_SIGNS_QUOTES_REQUIRED_REGEX
        self.keyword = re.compile("|".join(keyword.DENYLIST), re.I)
        self.base64, self.hex = Base64HighEntropyString(), HexHighEntropyString()
        self._heuristic = heuristic

    def filtered(self, value: str, line: str) -> bool:
        """detect-secrets' own false-positive filters (templates, $VARS, f(x) references, UUIDs,
        sequences), and three of ours: a value that calls itself a placeholder, and for code a type
        (`api_key: str`) and a variable named for a secret (`self._api_key = api_key`, `record(secret=secret)`)."""
        h = self._heuristic
        return (h.is_templated_secret(value) or h.is_prefixed_with_dollar_sign(value) or h.is_indirect_reference(line)
                or bool(_PLACEHOLDER_VALUE.search(value))
                or h.is_potential_uuid(value) or h.is_sequential_string(value) or h.is_not_alphanumeric_string(value)
                or re.split(r"[\s|\[,)]", value, maxsplit=1)[0] in _TYPE_NAMES
                or bool(_IDENTIFIER.fullmatch(value.rstrip("):;,")) and self.keyword.search(value)))


@functools.cache
def _detect_secrets() -> _DetectSecrets:
    # Imported on the first redaction, not at start-up (detect-secrets pulls in requests and yaml).
    return _DetectSecrets()


def _random_looking(token: str) -> bool:
    """Upper case, lower case and digits mixed with high entropy, as base62/base64 credentials are.
    Single-case runs never qualify: commit hashes, UUIDs, digests, paths and slugs are identifiers,
    not credentials, unless assigned to a secret-named key (see _ASSIGNED). Nor does a name made
    mostly of words ("SmolLM2-135M-Instruct", "getUser2FactorAuthToken"); in a random token words
    cover under half the characters 97% of the time. Nor does one of long runs (_mean_segment)."""
    mixed = all(re.search(cls, token) for cls in ("[a-z]", "[A-Z]", r"\d"))
    if not mixed:
        return _single_case_random(token)
    wordy = sum(map(len, _WORD.findall(token))) >= len(token) / 2
    return not wordy and _mean_segment(token) < LONG_SEGMENTS and token_entropy(token) >= ENTROPY_THRESHOLD


def _mean_segment(token: str) -> float:
    """The mean length of a token's runs between case changes, digits and symbols. A name built of words,
    capitals and numbers ("DFSClient_NONMAPREDUCE_1537864556_1", "Package_for_KB3121255" in loghub's
    Hadoop and Windows logs) has long runs; a random base62 token short ones."""
    runs = _SEGMENT.findall(token)
    return sum(map(len, runs)) / max(1, len(runs))


def _single_case_random(token: str) -> bool:
    """Letters of one case and digits interleaved at random, as the base36 keys of many providers
    are (gitleaks' and trufflehog's test keys: "live_xsbyvutimrj-bb1ct-xc9n...", "pnu_zeoxhec7ybf9...").
    Letters and digits alternate at about two pairs in five in such a token's longest piece (16
    characters or more), and hardly in a slug or file name ("cp311-cp311-manylinux_2_17_x86_64"); a
    name with a short random suffix ("pod/api-server-7d9f8b6c5d-x2k9p") and hex (hashes, UUIDs) stay out."""
    piece = max(re.split(r"[-_/+.=]", token), key=len)
    if len(token) < 24 or len(piece) < 16 or not re.search(r"[g-zG-Z]", piece) or not re.search(r"\d", piece):
        return False
    alternations = len(re.findall(r"(?<=[a-zA-Z])\d|(?<=\d)[a-zA-Z]", piece))
    return alternations >= len(piece) / 5 and token_entropy(token) >= ENTROPY_THRESHOLD


def token_entropy(token: str) -> float:
    """Shannon entropy in bits per character over log2 of the string's length (capped at a base64
    alphabet): a 20-character string cannot exceed 4.3 bits however random, a 64-character one 6."""
    counts = Counter(token).values()
    bits = -sum(n / len(token) * math.log2(n / len(token)) for n in counts)
    return bits / math.log2(min(len(token), 64))
