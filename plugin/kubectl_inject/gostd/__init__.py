"""Go's standard library behaviour, written once.

kubectl inject reproduces istioctl's output byte for byte, and istioctl's bytes come from Go's
standard library: strconv formats numbers and quotes strings, fmt prints values, encoding/json
marshals, time prints durations. Each of those behaviours lives here, once, pinned by
tests/test_gostd.py; every other module calls these functions instead of approximating Go.

This package is the bottom layer: it imports nothing from the rest of kubectl_inject.

- :mod:`.values`: how Go values are modelled in Python (nil, the invalid reflect.Value,
  typed nil pointers, string maps, the struct protocol) and their Go type names.
- :mod:`.strconv`: FormatFloat (float64 and float32), Quote/QuoteRune, Unquote, ParseInt.
- :mod:`.fmt`: %v printing, Sprint, Sprintln, Sprintf.
- :mod:`.json`: encoding/json Marshal (and MarshalIndent) and Unmarshal into interface{}.
- :mod:`.time`: time.Duration.String.
"""
