"""Value formats of hadolint's label schema: URL, RFC 3339 time, SPDX license id, git hash, semver, RFC 5322 email."""

from __future__ import annotations

import re
from collections.abc import Callable

from dockyard.lint.config import LabelType

_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*\Z")
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})\Z")
_SEMVER = re.compile(r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
                     r"(-(0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)(\.(0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*))*)?"
                     r"(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?\Z")
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_EMAIL = re.compile(rf"({_ATOM}(\.{_ATOM})*|\"([^\"\\]|\\.)*\")@({_ATOM}(\.{_ATOM})*|\[[^\[\]\\]*\])\Z")
_HASH = re.compile(r"[0-9a-f]{7}\Z|[0-9a-f]{40}\Z")

#: The SPDX license ids people put in labels (a subset of the SPDX list; see docs/lint.md).
_SPDX_TEXT = """
0BSD AFL-3.0 AGPL-3.0 AGPL-3.0-only AGPL-3.0-or-later Apache-1.1 Apache-2.0 APSL-2.0 Artistic-2.0 BlueOak-1.0.0
BSD-1-Clause BSD-2-Clause BSD-2-Clause-Patent BSD-3-Clause BSD-3-Clause-Clear BSD-4-Clause BSL-1.0 CC-BY-3.0
CC-BY-4.0 CC-BY-SA-3.0 CC-BY-SA-4.0 CC0-1.0 CDDL-1.0 CDDL-1.1 CECILL-2.1 CPL-1.0 ECL-2.0 EPL-1.0 EPL-2.0 EUPL-1.1
EUPL-1.2 GFDL-1.3 GFDL-1.3-only GFDL-1.3-or-later GPL-1.0 GPL-2.0 GPL-2.0-only GPL-2.0-or-later GPL-3.0
GPL-3.0-only GPL-3.0-or-later ISC LGPL-2.0 LGPL-2.1 LGPL-2.1-only LGPL-2.1-or-later LGPL-3.0 LGPL-3.0-only
LGPL-3.0-or-later LPPL-1.3c MIT MIT-0 MPL-1.1 MPL-2.0 MS-PL MS-RL MulanPSL-2.0 NCSA ODbL-1.0 OFL-1.1 OpenSSL OSL-3.0
PHP-3.01 PostgreSQL Python-2.0 Ruby Unicode-DFS-2016 Unlicense UPL-1.0 Vim W3C WTFPL X11 Zlib ZPL-2.1
"""
SPDX_IDS = frozenset(_SPDX_TEXT.split())

VALIDATORS: dict[LabelType, Callable[[str], bool]] = {
    LabelType.URL: lambda v: _URI.match(v) is not None,
    LabelType.RFC3339: lambda v: _RFC3339.match(v) is not None,
    LabelType.SPDX: lambda v: v in SPDX_IDS,
    LabelType.HASH: lambda v: _HASH.match(v) is not None,
    LabelType.SEMVER: lambda v: _SEMVER.match(v) is not None,
    LabelType.EMAIL: lambda v: _EMAIL.match(v) is not None,
}

#: The rule that checks each label type, and how its message names the problem.
TYPE_RULES: dict[LabelType, tuple[str, str]] = {
    LabelType.URL: ("DL3052", "is not a valid URL."),
    LabelType.RFC3339: ("DL3053", "is not a valid time format - must conform to RFC3339."),
    LabelType.SPDX: ("DL3054", "is not a valid SPDX identifier."),
    LabelType.HASH: ("DL3055", "is not a valid git hash."),
    LabelType.SEMVER: ("DL3056", "does not conform to semantic versioning."),
    LabelType.EMAIL: ("DL3058", "is not a valid email format - must conform to RFC5322."),
}
