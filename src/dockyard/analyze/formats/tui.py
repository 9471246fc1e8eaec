"""`dockyard analyze --tui`: a dive-like interactive browser (textual) of a `Report`: the layer list, the file tree
of the selected layer or of the image up to it, change filters, size sorting, and dive's numbers in a footer."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Footer, Static, Tree
from textual.widgets.tree import TreeNode

from dockyard.analyze.formats.tui_tree import ALL_CHANGES, Change, FileNode, info_line, layer_detail, layer_rows, view
from dockyard.analyze.model import Report
from dockyard.analyze.units import go_bytes

__all__ = ["AnalyzeApp", "run_tui"]

#: Children shown per directory (the rest is summarized in one line).
MAX_CHILDREN = 1000
#: Directories are expanded on open while the tree shows fewer nodes than this.
AUTO_EXPAND = 200
_STYLE = {Change.ADDED: "green", Change.MODIFIED: "yellow", Change.REMOVED: "red", Change.UNCHANGED: ""}
_MARK = {Change.ADDED: "+", Change.MODIFIED: "~", Change.REMOVED: "-", Change.UNCHANGED: " "}
_KEYS = {"added": Change.ADDED, "modified": Change.MODIFIED, "removed": Change.REMOVED, "unchanged": Change.UNCHANGED}


def label(node: FileNode) -> Text:
    """One line of the file tree: size, change mark, name (`/` for directories, `→ target` for links), waste."""
    text = Text(f"{go_bytes(node.size):>9} {_MARK[node.change]} ", style="dim")
    name = f"{node.name}/" if node.is_dir else node.name
    text.append(name, style=_STYLE[node.change] + (" bold" if node.is_dir else ""))
    if node.link:
        text.append(f" → {node.link}", style="dim")
    if node.wasted:
        text.append("  wasted", style="magenta")
    return text


class AnalyzeApp(App[None]):
    """Browse one analysis report."""

    TITLE = "dockyard analyze"
    CSS = """
    #layers { width: 45%; }
    #files-pane { width: 55%; }
    #layers-table { height: 1fr; }
    #files { height: 1fr; }
    #filters, #detail { height: 1; background: $boost; }
    #info { height: 1; background: $primary-background; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        Binding("ctrl+a", "filter('added')", "Added"),
        Binding("ctrl+m", "filter('modified')", "Modified", show=False),  # terminals send ctrl+m as enter: also `m`
        Binding("m", "filter('modified')", "Modified"),
        Binding("ctrl+r", "filter('removed')", "Removed"),
        Binding("ctrl+u", "filter('unchanged')", "Unchanged"),
        Binding("ctrl+w", "toggle_wasted", "Wasted only"),
        Binding("ctrl+o,s", "toggle_sort", "Sort by size"),
        Binding("ctrl+l,v", "toggle_view", "Layer/Image"),
    ]

    def __init__(self, report: Report) -> None:
        super().__init__()
        self.report = report
        self.layer = 0
        self.whole_image = False
        self.shown: set[Change] = set(ALL_CHANGES)
        self.wasted_only = False
        self.by_size = False
        self.current: FileNode | None = None
        """The tree shown right now (after filters and sorting)."""
        self._loaded: set[int] = set()

    def compose(self) -> ComposeResult:
        with Horizontal():
            with Vertical(id="layers"):
                yield Static(f"{self.report.reference}  {self.report.platform}", id="title")
                yield DataTable(id="layers-table", cursor_type="row", zebra_stripes=True)
            with Vertical(id="files-pane"):
                yield Static("", id="detail")
                yield Static("", id="filters")
                yield Tree[FileNode](".", id="files")
        yield Static(info_line(self.report), id="info")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#layers-table", DataTable)
        table.add_columns("#", "size", "command")
        for index, size, command in layer_rows(self.report):
            table.add_row(index, Text(size, justify="right"), command)
        table.focus()
        self.refresh_tree()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.cursor_row != self.layer and 0 <= event.cursor_row < len(self.report.layers):
            self.layer = event.cursor_row
            self.refresh_tree()

    def action_filter(self, change: str) -> None:
        kind = _KEYS[change]
        self.shown.symmetric_difference_update({kind})
        self.refresh_tree()

    def action_toggle_wasted(self) -> None:
        self.wasted_only = not self.wasted_only
        self.refresh_tree()

    def action_toggle_sort(self) -> None:
        self.by_size = not self.by_size
        self.refresh_tree()

    def action_toggle_view(self) -> None:
        self.whole_image = not self.whole_image
        self.refresh_tree()

    def filter_text(self) -> str:
        """The filter bar: which changes show, waste filter, sort order and view."""
        boxes = " ".join(f"[{'x' if c in self.shown else ' '}] {c.value}" for c in Change)
        return (f"{boxes}  [{'x' if self.wasted_only else ' '}] wasted only  "
                f"sort: {'size' if self.by_size else 'name'}  "
                f"view: {'image (layers 0..' + str(self.layer) + ')' if self.whole_image else 'layer'}")

    def refresh_tree(self) -> None:
        """Rebuild the file tree for the current layer, view, filters and order."""
        self.current = view(self.report, self.layer, whole_image=self.whole_image, shown=self.shown,
                            wasted_only=self.wasted_only, by_size=self.by_size)
        self.query_one("#detail", Static).update(layer_detail(self.report, self.layer))
        self.query_one("#filters", Static).update(self.filter_text())
        tree: Tree[FileNode] = self.query_one("#files", Tree)
        tree.reset(Text(f"{go_bytes(self.current.size):>9}   /"), self.current)
        self._loaded = set()
        self._populate(tree.root)
        tree.root.expand()
        budget = AUTO_EXPAND - len(tree.root.children)
        todo = list(tree.root.children)
        while todo and budget > 0:
            node = todo.pop(0)
            if node.data is not None and node.data.children and len(node.data.children) <= budget:
                self._populate(node)
                node.expand()
                budget -= len(node.children)
                todo.extend(node.children)

    def _populate(self, node: TreeNode[FileNode]) -> None:
        if node.id in self._loaded or node.data is None:
            return
        self._loaded.add(node.id)
        children = node.data.children
        for child in children[:MAX_CHILDREN]:
            if child.is_dir and child.children:
                node.add(label(child), data=child)
            else:
                node.add_leaf(label(child), data=child)
        if len(children) > MAX_CHILDREN:
            rest = children[MAX_CHILDREN:]
            node.add_leaf(Text(f"… {len(rest)} more ({go_bytes(sum(c.size for c in rest))})", style="dim"))

    def on_tree_node_expanded(self, event: Tree.NodeExpanded[FileNode]) -> None:
        self._populate(event.node)


def run_tui(report: Report) -> None:
    """Browse `report` in the terminal until the user quits."""
    AnalyzeApp(report).run()
