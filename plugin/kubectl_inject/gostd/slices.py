"""Go slices with Go's capacities: a window (offset, length, capacity) onto a shared array.

Code that reproduces Go programs exactly sometimes depends on aliasing: apimachinery's strategic
merge appends to and deletes from slices that share a backing array with another slice it reads
later, so which writes are visible depends on capacities. Capacities follow the Go 1.22 runtime
(runtime.growslice and the malloc size classes of runtime/sizeclasses.go) for []interface{}
elements, and encoding/json's decoder, which grows a decoded array one append at a time.
"""
from __future__ import annotations

TYPE_CHECKING = False  # typing's names for annotations only: importing it costs start-up time
if TYPE_CHECKING:
    from typing import Any, Iterable

__all__ = ["Slice", "grow_cap", "decoded_cap", "roundupsize"]

# runtime/sizeclasses.go class sizes (bytes) for small objects.
SIZE_CLASSES = (
    0, 8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224,
    240, 256, 288, 320, 352, 384, 416, 448, 480, 512, 576, 640, 704, 768, 896,
    1024, 1152, 1280, 1408, 1536, 1792, 2048, 2304, 2688, 3072, 3200, 3456,
    4096, 4864, 5376, 6144, 6528, 6784, 6912, 8192, 9472, 9728, 10240, 10880,
    12288, 13568, 14336, 16384, 18432, 19072, 20480, 21760, 24576, 27264,
    28672, 32768,
)
_MAX_SMALL_SIZE = 32768
_MALLOC_HEADER_SIZE = 8
_MIN_SIZE_FOR_MALLOC_HEADER = 512  # goarch.PtrSize * ptrBits
_PAGE_SIZE = 8192
_IFACE_SIZE = 16  # sizeof(interface{}) on 64-bit


def roundupsize(size: int) -> int:
    """runtime.roundupsize (Go 1.22, pointerful objects carry a malloc header)."""
    req = size
    if req <= _MAX_SMALL_SIZE - _MALLOC_HEADER_SIZE:
        if req > _MIN_SIZE_FOR_MALLOC_HEADER:
            req += _MALLOC_HEADER_SIZE
        for cls in SIZE_CLASSES:
            if cls >= req:
                return cls - (req - size)
    req = size + _PAGE_SIZE - 1
    return req - (req % _PAGE_SIZE)


def grow_cap(old_len: int, old_cap: int, new_len: int) -> int:
    """Capacity chosen by runtime.growslice for []interface{}."""
    newcap = old_cap
    doublecap = newcap + newcap
    if new_len > doublecap:
        newcap = new_len
    else:
        threshold = 256
        if old_cap < threshold:
            newcap = doublecap
        else:
            while 0 < newcap < new_len:
                newcap += (newcap + 3 * threshold) >> 2
            if newcap <= 0:
                newcap = new_len
    return roundupsize(newcap * _IFACE_SIZE) // _IFACE_SIZE


_DECODED_CAPS: dict[int, int] = {0: 0}


def decoded_cap(n: int) -> int:
    """Capacity of an n-element []interface{} built by encoding/json.

    The decoder starts from make([]any, 0) and appends one element at a time.
    """
    if n in _DECODED_CAPS:
        return _DECODED_CAPS[n]
    length, cap = 0, 0
    while length < n:
        if length + 1 > cap:
            cap = grow_cap(length, cap, length + 1)
        length += 1
    _DECODED_CAPS[n] = cap
    return cap


class Slice:
    """A Go slice: a window (off, len, cap) onto a shared backing array."""

    __slots__ = ("arr", "off", "n", "cap")

    def __init__(self, arr: list, off: int, n: int, cap: int):
        self.arr = arr
        self.off = off
        self.n = n
        self.cap = cap

    @classmethod
    def make(cls, items: Iterable[Any] = (), cap: int | None = None) -> "Slice":
        items = list(items)
        if cap is None or cap < len(items):
            cap = len(items)
        return cls(items + [None] * (cap - len(items)), 0, len(items), cap)

    @classmethod
    def decoded(cls, items: list) -> "Slice":
        return cls.make(items, decoded_cap(len(items)))

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> Any:
        if not 0 <= i < self.n:
            raise IndexError(i)
        return self.arr[self.off + i]

    def __setitem__(self, i: int, v: Any) -> None:
        if not 0 <= i < self.n:
            raise IndexError(i)
        self.arr[self.off + i] = v

    def items(self) -> list:
        return self.arr[self.off:self.off + self.n]

    def __iter__(self):
        return iter(self.items())

    def reslice(self, lo: int, hi: int) -> "Slice":
        if not 0 <= lo <= hi <= self.cap:
            raise IndexError((lo, hi))
        return Slice(self.arr, self.off + lo, hi - lo, self.cap - lo)

    def append(self, *vals: Any) -> "Slice":
        # Go's append copies with memmove semantics; `vals` is already a copy.
        new_len = self.n + len(vals)
        if new_len <= self.cap:
            base = self.off + self.n
            for i, v in enumerate(vals):
                self.arr[base + i] = v
            return Slice(self.arr, self.off, new_len, self.cap)
        new_cap = grow_cap(self.n, self.cap, new_len)
        return Slice.make(self.items() + list(vals), new_cap)
