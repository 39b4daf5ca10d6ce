# Stand-ins for the six classes PyTorch's profile pickles name (torch/_dynamo/pgo.py), so
# CPython's pickle can load and dump them without torch installed. Equality and hashing as
# PyTorch's (CodeId ignores filename).
import dataclasses, enum
from collections import defaultdict
@dataclasses.dataclass(frozen=True)
class CodeId:
    filename: str
    firstlineno: int
    name: str
    file_hash: str
    def __eq__(self, o): return isinstance(o, CodeId) and (self.file_hash, self.firstlineno, self.name) == (o.file_hash, o.firstlineno, o.name)
    def __hash__(self): return hash((self.file_hash, self.name, self.firstlineno))
@dataclasses.dataclass
class CodeState:
    automatic_dynamic: defaultdict = dataclasses.field(default_factory=lambda: defaultdict(FrameStateSizeEntry))
@dataclasses.dataclass(frozen=True)
class InferStride:
    dim: int
class AutoUnset(enum.Enum):
    token = 0
class AutoDynamic(enum.Enum):
    token = 0
@dataclasses.dataclass
class FrameStateSizeEntry:
    scalar: object = AutoUnset.token
    size: object = AutoUnset.token
    stride: object = AutoUnset.token
