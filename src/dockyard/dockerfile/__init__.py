"""The Dockerfile model shared by `dockyard lint` and the builder: BuildKit's grammar, scoping, stages, context.

    from dockyard.dockerfile import parse_file, resolve, StageGraph, DockerIgnore, iter_context

- `parse(text)` / `parse_file(path)` -> `Dockerfile` (typed, frozen instructions with line spans and source lines)
- `resolve(dockerfile, BuildOptions(...))` -> every stage with `$VAR`s expanded under BuildKit's ARG/ENV scoping
- `StageGraph.build(dockerfile).plan(target)` -> the stages to build for `--target`, in order and parallel levels
- `DockerIgnore.load(context_dir, dockerfile_path)` and `iter_context(context_dir, ignore)` -> the build context

All errors are `DockerfileError` subclasses (`dockyard.errors.InvalidArgument`) naming the file and line.
"""

from __future__ import annotations

from dockyard.dockerfile.context import ContextFile, FileKind, iter_context
from dockyard.dockerfile.directives import Directive, Directives
from dockyard.dockerfile.errors import (
    DockerfileError,
    DockerfileReadError,
    DockerfileSyntaxError,
    DockerIgnoreError,
    StageError,
)
from dockyard.dockerfile.expand import BaseEnv, Resolution, ResolvedInstruction, ResolvedStage, resolve
from dockyard.dockerfile.flags import Flag
from dockyard.dockerfile.ignore import DockerIgnore, PatternMatcher, read_patterns
from dockyard.dockerfile.instructions import (
    AddInstruction,
    AnyInstruction,
    ArgDecl,
    ArgInstruction,
    CmdInstruction,
    CommandLine,
    CopyInstruction,
    EntrypointInstruction,
    EnvInstruction,
    ExposeInstruction,
    FromInstruction,
    HealthcheckInstruction,
    Instruction,
    KeyValue,
    Keyword,
    LabelInstruction,
    MaintainerInstruction,
    OnbuildInstruction,
    RunInstruction,
    ShellInstruction,
    StopsignalInstruction,
    UserInstruction,
    VolumeInstruction,
    WorkdirInstruction,
)
from dockyard.dockerfile.lexer import Expansion, ShellLex
from dockyard.dockerfile.model import Dockerfile, ParseWarning, Stage, parse, parse_file
from dockyard.dockerfile.mounts import Mount, MountType
from dockyard.dockerfile.scope import PLATFORM_ARGS, PROXY_ARGS, BuildOptions, GlobalScope, global_scope, platform_args
from dockyard.dockerfile.stages import BuildPlan, Dependency, DependencyKind, StageGraph, StageNode
from dockyard.dockerfile.syntax import Comment, Heredoc, Node, RawFile, parse_nodes

__all__ = [
    "PLATFORM_ARGS", "PROXY_ARGS", "AddInstruction", "AnyInstruction", "ArgDecl", "ArgInstruction", "BaseEnv",
    "BuildOptions", "BuildPlan", "CmdInstruction", "CommandLine", "Comment", "ContextFile", "CopyInstruction",
    "Dependency", "DependencyKind", "Directive", "Directives", "DockerIgnore", "DockerIgnoreError", "Dockerfile",
    "DockerfileError", "DockerfileReadError", "DockerfileSyntaxError", "EntrypointInstruction", "EnvInstruction",
    "Expansion", "ExposeInstruction", "FileKind", "Flag", "FromInstruction", "GlobalScope", "HealthcheckInstruction",
    "Heredoc", "Instruction", "KeyValue", "Keyword", "LabelInstruction", "MaintainerInstruction", "Mount",
    "MountType", "Node", "OnbuildInstruction", "ParseWarning", "PatternMatcher", "RawFile", "Resolution",
    "ResolvedInstruction", "ResolvedStage", "RunInstruction", "ShellInstruction", "ShellLex", "Stage", "StageError",
    "StageGraph", "StageNode", "StopsignalInstruction", "UserInstruction", "VolumeInstruction",
    "WorkdirInstruction", "global_scope", "iter_context", "parse", "parse_file", "parse_nodes", "platform_args",
    "read_patterns", "resolve",
]
