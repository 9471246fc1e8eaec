"""Recognizing build toolchains and dependency installs in RUN scripts (for DY1003 and DY1007)."""

from __future__ import annotations

from dockyard.lint.shellcmd import Command, Script

#: Package names that are compilers or build systems in Debian, Alpine and RPM distributions.
TOOLCHAIN_PACKAGES = frozenset({
    "build-essential", "build-base", "gcc", "g++", "gcc-c++", "clang", "llvm", "make", "cmake", "ninja-build",
    "ninja", "autoconf", "automake", "libtool", "pkg-config", "pkgconf", "golang", "golang-go", "go", "rustc",
    "cargo", "maven", "gradle", "default-jdk", "openjdk-17-jdk", "openjdk-21-jdk", "musl-dev", "libc6-dev",
    "libc-dev", "linux-headers", "dpkg-dev", "bison", "flex", "gfortran",
})
_INSTALLERS = {"apt-get": ("install",), "apt": ("install",), "apk": ("add",), "yum": ("install",),
               "dnf": ("install",), "microdnf": ("install",), "zypper": ("install", "in")}
_REMOVERS = {"apt-get": ("purge", "remove", "autoremove"), "apt": ("purge", "remove", "autoremove"),
             "apk": ("del",), "yum": ("remove", "erase", "autoremove"), "dnf": ("remove", "autoremove"),
             "microdnf": ("remove",), "zypper": ("remove", "rm")}
_VALUE_FLAGS = ("t", "target-release", "virtual", "repository", "X", "o")


def _is_toolchain(package: str) -> bool:
    name = package.split("=", 1)[0].split("~", 1)[0]
    return name in TOOLCHAIN_PACKAGES or name.endswith(("-dev", "-devel"))


def installed(cmd: Command) -> list[str]:
    """The packages a package-manager install command names."""
    verbs = _INSTALLERS.get(cmd.name)
    if verbs is None or not cmd.has_arg(*verbs):
        return []
    return [a for a in cmd.args_no_flags(_VALUE_FLAGS) if a not in verbs]


def installs_toolchain(script: Script) -> list[str]:
    """Toolchain packages installed by the script and not removed again in it (`apk del`, `apt-get purge`)."""
    if any(c.name in _REMOVERS and c.has_arg(*_REMOVERS[c.name]) for c in script.commands):
        return []
    return [p for c in script.commands for p in installed(c) if _is_toolchain(p)]


#: Commands that install a project's dependencies from its manifests (lock files), by tool and sub-command.
_DEPENDENCY_STEPS = {"npm": ("install", "ci", "i"), "yarn": ("install",), "pnpm": ("install", "i"),
                     "bundle": ("install",), "composer": ("install",), "poetry": ("install",),
                     "pipenv": ("install", "sync"), "uv": ("sync",), "mvn": ("dependency:go-offline", "install"),
                     "gradle": ("dependencies",), "cargo": ("fetch", "build"), "go": ("mod",)}


def dependency_step(script: Script) -> str | None:
    """The first command that installs dependencies from manifests (`npm ci`, `pip install -r ...`), if any."""
    for cmd in script.commands:
        verbs = _DEPENDENCY_STEPS.get(cmd.name)
        if verbs is not None and cmd.args_no_flags()[:1] and cmd.args_no_flags()[0] in verbs:
            if cmd.name == "npm" and cmd.args_no_flags()[1:] and cmd.args_no_flags()[0] != "ci":
                continue  # `npm install pkg` adds a package, it does not read the manifest
            return f"{cmd.name} {cmd.args_no_flags()[0]}"
        if cmd.name.startswith("pip") and cmd.has_arg("install") and (cmd.has_flag("r", "requirement")):
            return f"{cmd.name} install -r"
    return None
