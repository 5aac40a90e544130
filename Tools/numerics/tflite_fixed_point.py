#!/usr/bin/env python3
"""Independent model of TFLite's / gemmlowp's fixed-point helpers, written from their C++
definitions with Python's unbounded ints (C truncating division made explicit), to produce
the hand-checkable vectors in Tests/QuantaKernelsTests/FixedPointTests.swift.

Run: python3 Tools/numerics/tflite_fixed_point.py
"""
import math

INT32_MIN, INT32_MAX = -2**31, 2**31 - 1


def wrap32(x):
    return (x + 2**31) % 2**32 - 2**31


def c_div(a, b):  # C/C++ integer division: truncates toward zero
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def srdhm(a, b):
    if a == b == INT32_MIN:
        return INT32_MAX
    ab = a * b
    nudge = 2**30 if ab >= 0 else 1 - 2**30
    return c_div(ab + nudge, 2**31)


def rdbpot(x, e):
    mask = (1 << e) - 1
    rem = x & mask  # Python's & on negative ints is two's complement, like C
    threshold = (mask >> 1) + (1 if x < 0 else 0)
    return (x >> e) + (1 if rem > threshold else 0)


def mbqm(x, m, s):
    left = s if s > 0 else 0
    right = 0 if s > 0 else -s
    return rdbpot(srdhm(wrap32(x * (1 << left)), m), right)


def mbqm_smaller_than_one(x, m, s):
    return rdbpot(srdhm(x, m), -s)


def quantize_multiplier(d):
    if d == 0.0:
        return 0, 0
    q, shift = math.frexp(d)
    q_fixed = int(math.copysign(math.floor(abs(q * 2**31) + 0.5), q))  # std::round
    assert q_fixed <= 2**31
    if q_fixed == 2**31:
        q_fixed //= 2
        shift += 1
    if shift < -31:
        shift, q_fixed = 0, 0
    return q_fixed, shift


if __name__ == "__main__":
    print("srdhm")
    for a, b in [(INT32_MIN, INT32_MIN), (INT32_MAX, INT32_MAX), (INT32_MIN, INT32_MAX),
                 (1, 2**30), (-1, 2**30), (3, 2**30), (-3, 2**30), (1 << 30, 1 << 30),
                 (123456789, 987654321), (-123456789, 987654321), (5, -(1 << 30)),
                 (INT32_MIN, 1 << 30)]:
        print(f"  ({a}, {b}) -> {srdhm(a, b)}")
    print("rdbpot")
    for x, e in [(5, 1), (-3, 1), (-5, 2), (3, 1), (-2, 1), (-6, 2), (6, 2), (7, 0),
                 (INT32_MAX, 31), (INT32_MIN, 31), (-(1 << 30), 31), (1 << 30, 31),
                 ((1 << 30) - 1, 31), (-((1 << 30) + 1), 31), (1000, 3), (-1000, 3), (-1004, 3), (-1005, 3)]:
        print(f"  ({x}, {e}) -> {rdbpot(x, e)}")
    print("mbqm")
    for x, m, s in [(1000, 1 << 30, 0), (1000, 1 << 30, 1), (1000, 1 << 30, -1), (-1000, 1 << 30, -4),
                    (12345, 1518500250, -7), (-12345, 1518500250, -7), (7, 1 << 30, 3),
                    (100, INT32_MAX, -31), (INT32_MAX, INT32_MAX, -31), (-999, 1 << 30, 31 - 31),
                    (3, 1 << 30, 31)]:
        print(f"  ({x}, {m}, {s}) -> {mbqm(x, m, s)}")
    print("mbqm <1")
    for x, m, s in [(255 << 20, 1 << 30, -1), (-(255 << 20), 1518500250, -20), (1 << 20, 1073741824, 0)]:
        print(f"  ({x}, {m}, {s}) -> {mbqm_smaller_than_one(x, m, s)}")
    print("quantize_multiplier")
    for d in [1.0, 0.5, 0.0, 3.0, 0.75, 1 / 3, 2**-31, 2**-32, 2**-33, 1e-10, 0.999999999999, 1.4142135623730951,
              0.0123, 12.5, (2**31 - 0.5) / 2**31, -0.75, 2**-31 * 0.9999999999]:
        print(f"  {d!r} -> {quantize_multiplier(d)}")
