"""What the extractor proposes: plain data, the same for the command, the admin page and the API."""

from dataclasses import asdict, dataclass, field
from decimal import Decimal


@dataclass
class Figure:
    """One number the text reports or promises, with where it came from."""

    value: Decimal
    unit: str
    qualifier: str
    measure: str
    written: str  # the number and unit exactly as written, e.g. "10.5万名"
    start: int  # offset of `written` in the text
    end: int
    quote: str  # the shortest verbatim fragment that says what is counted
    offset: int  # offset of `quote` in the text
    name: str = ""
    selected: bool = True
    flags: list = field(default_factory=list)  # why a person should look: "caption", "repeated", "layout"
    item: int = 0  # index into Proposal.items

    def to_dict(self):
        data = asdict(self)
        data["value"] = format(self.value, "f")
        return data


@dataclass
class Item:
    number: int
    title: str
    text: str
    start: int
    end: int
    category: str
    milestone: bool = False  # a plan item that promises an act rather than a number


@dataclass
class Flag:
    """Something a person must look at: a table cut into columns, a figure split by the layout."""

    kind: str
    message: str
    start: int
    end: int
    detail: list = field(default_factory=list)


@dataclass
class Proposal:
    text: str
    kind: str
    title: str
    items: list
    figures: list
    flags: list

    @property
    def selected(self):
        return [figure for figure in self.figures if figure.selected]

    def to_dict(self):
        return {
            "kind": self.kind,
            "title": self.title,
            "items": [asdict(item) for item in self.items],
            "figures": [figure.to_dict() for figure in self.figures],
            "flags": [asdict(flag) for flag in self.flags],
        }
