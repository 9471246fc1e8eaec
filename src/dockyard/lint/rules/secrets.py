"""What looks like a secret: hadolint's DL3064 names, and dockyard's wider name and value patterns (DY1010)."""

from __future__ import annotations

import re

#: hadolint's `knownSensitiveNames` (compared upper-cased).
KNOWN_SENSITIVE_NAMES = frozenset({
    "ACCESS_TOKEN", "APPLICATION_KEY", "APP_SECRET", "AUTH_TOKEN", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
    "BITTREX_API_KEY", "BITTREX_API_SECRET", "CF_PASSWORD", "CF_USERNAME", "CIRCLE_TOKEN", "CI_DEPLOY_PASSWORD",
    "CI_DEPLOY_USER", "DOCKERHUB_PASSWORD", "DOCKER_EMAIL", "DOCKER_PASSWORD", "DOCKER_USERNAME",
    "FACEBOOK_ACCESS_TOKEN", "FACEBOOK_APP_ID", "FACEBOOK_APP_SECRET", "FIREBASE_API_TOKEN", "FIREBASE_TOKEN",
    "FOSSA_API_KEY", "GH_ENTERPRISE_TOKEN", "GH_TOKEN", "GITHUB_ENTERPRISE_TOKEN", "GITHUB_TOKEN", "HEROKU_API_KEY",
    "HEROKU_API_USER", "NPM_AUTH_TOKEN", "NPM_TOKEN", "OKTA_AUTHN_GROUPID", "OKTA_CLIENT_ORGURL",
    "OKTA_CLIENT_TOKEN", "OKTA_OAUTH2_CLIENTID", "OKTA_OAUTH2_CLIENTSECRET", "OPENAI_API_KEY", "OS_PASSWORD",
    "OS_USERNAME", "POSTGRES_PASSWORD", "SLACK_TOKEN", "STRIPE_API_KEY", "STRIPE_DEVICE_NAME", "TRAVIS_OS_NAME",
    "TRAVIS_SECURE_ENV_VARS", "TRAVIS_SUDO", "VAULT_CLIENT_KEY", "VAULT_TOKEN",
})
#: hadolint's `suspiciousSubstrings` (searched in the lower-cased name).
SUSPICIOUS_SUBSTRINGS = ("api_key", "client_key", "password", "private", "secret", "token", "username")


def sensitive_name(name: str) -> bool:
    """hadolint's DL3064 test of an ARG or ENV name."""
    lower = name.lower()
    return name.upper() in KNOWN_SENSITIVE_NAMES or any(s in lower for s in SUSPICIOUS_SUBSTRINGS)


#: Name fragments DL3064 misses (matched on the lower-cased name split at `_`, `-` and `.`).
_EXTRA_NAME_PARTS = frozenset({"passwd", "pwd", "pass", "credential", "credentials", "apikey", "secretkey",
                               "accesskey", "privatekey", "dsn", "auth"})
_EXTRA_NAME_PAIRS = (("access", "key"), ("secret", "key"), ("private", "key"), ("connection", "string"),
                     ("conn", "str"), ("database", "url"), ("db", "url"), ("auth", "key"))

#: Credential formats with a fixed shape (prefixes documented by their issuers).
_SECRET_VALUES = re.compile(
    r"AKIA[0-9A-Z]{16}"                       # AWS access key id
    r"|gh[pousr]_[A-Za-z0-9]{36,}"            # GitHub tokens
    r"|github_pat_[A-Za-z0-9_]{22,}"
    r"|glpat-[A-Za-z0-9_-]{20,}"              # GitLab personal access token
    r"|xox[abpors]-[A-Za-z0-9-]{10,}"         # Slack
    r"|sk_live_[A-Za-z0-9]{16,}"              # Stripe
    r"|sk-[A-Za-z0-9_-]{32,}"                 # OpenAI-style API keys
    r"|AIza[0-9A-Za-z_-]{35}"                 # Google API key
    r"|npm_[A-Za-z0-9]{36}"                   # npm
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----"
    r"|eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+"  # JWT
    r"|[a-z][a-z0-9+.-]*://[^/\s:@$]+:[^/\s@$]+@",  # URL with an inline password
)


def extra_sensitive_name(name: str) -> bool:
    """Secret-looking names beyond hadolint's list (`DB_PASSWD`, `API_KEY`... already in DL3064 excluded)."""
    parts = [p for p in re.split(r"[_.\-]", name.lower()) if p]
    if any(p in _EXTRA_NAME_PARTS for p in parts):
        return True
    return any(a in parts and b in parts for a, b in _EXTRA_NAME_PAIRS)


def secret_value(value: str) -> bool:
    """A value with the shape of a credential (cloud keys, tokens, private keys, passwords in URLs)."""
    return _SECRET_VALUES.search(value) is not None
