"""YAML read with bounds, for files a person hands to a command (register files, statements).

``yaml.safe_load`` builds no objects, but it still follows a file to any depth (5,000 nested brackets
end in a RecursionError) and lets aliases stand for their anchors any number of times, so that a 7 KB
file of nested aliases (a "billion laughs") is a billion nodes to whoever walks the result. Here a
document is refused, while it is read, when it nests deeper than ``MAX_DEPTH``, holds more than
``MAX_ALIASES`` aliases, stands for more than ``MAX_NODES`` nodes once every alias is counted as what it
stands for, or holds an alias inside its own anchor (a structure that contains itself).

Timestamps are read as the text they are: a date is parsed where it is expected, by the strict date
field (``ropa.api.validators.DateField``), which names the day that does not exist.
"""

import yaml

MAX_DEPTH = 50
MAX_NODES = 200_000
MAX_ALIASES = 1_000

_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class YamlLimitError(yaml.YAMLError):
    """A document over one of the limits; the message names it."""


class _BoundedLoader(yaml.SafeLoader):
    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0
        self._aliases = 0
        self._sizes: dict[int, tuple[int, int]] = {}  # id(node) -> (nodes it stands for, depth), when complete

    # The scanner is stopped too, before it looks ahead through thousands of brackets or indents.
    def fetch_flow_collection_start(self, TokenClass):
        if self.flow_level >= MAX_DEPTH:
            raise YamlLimitError(f"nested more than {MAX_DEPTH} levels deep (the limit is {MAX_DEPTH})")
        super().fetch_flow_collection_start(TokenClass)

    def add_indent(self, column):
        if len(self.indents) >= MAX_DEPTH:
            raise YamlLimitError(f"nested more than {MAX_DEPTH} levels deep (the limit is {MAX_DEPTH})")
        return super().add_indent(column)

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise YamlLimitError(f"more than {MAX_ALIASES} aliases (the limit is {MAX_ALIASES})")
            node = super().compose_node(parent, index)
            if id(node) not in self._sizes:
                raise YamlLimitError("an alias inside the entry it refers to (a structure that contains itself)")
            return node
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise YamlLimitError(f"nested more than {MAX_DEPTH} levels deep (the limit is {MAX_DEPTH})")
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        if isinstance(node, yaml.MappingNode):
            children = [child for pair in node.value for child in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = node.value
        else:
            children = []
        size, depth = 1, 1
        for child in children:
            child_size, child_depth = self._sizes[id(child)]
            size += child_size
            depth = max(depth, child_depth + 1)
        if size > MAX_NODES:
            raise YamlLimitError(
                f"more than {MAX_NODES:,} values once its aliases are expanded (the limit is {MAX_NODES:,})"
            )
        if depth > MAX_DEPTH:
            raise YamlLimitError(
                f"nested more than {MAX_DEPTH} levels deep once its aliases are expanded (the limit is {MAX_DEPTH})"
            )
        self._sizes[id(node)] = (size, depth)
        return node


_BoundedLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_BoundedLoader.add_constructor(_TIMESTAMP, yaml.SafeLoader.construct_yaml_str)


def yaml_load(text: str):
    """The one YAML document in ``text``, as ``yaml.safe_load`` gives it but with timestamps as text;
    ``YamlLimitError`` (a ``yaml.YAMLError``) when it is over a limit, other ``yaml.YAMLError`` when it is
    not YAML."""
    loader = _BoundedLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()
