#!/usr/bin/env python3
"""Arena of TFLite Micro against Quanta's planned arena, on the same .tflite files.

    Tools/tflite/memory_tflm.py MODEL.tflite [...]

TFLite Micro (`tflite-micro` from pip, its recording allocator) loads each model and
reports its arena: the head (the tensors' memory plan, what Quanta's arena holds) and the
tail (persistent buffers: per-channel multipliers, node structs, tensor metadata, which
Quanta keeps in the .qmodel file instead). `quanta import --json` gives Quanta's arena for
the same file. Prints a Markdown table; needs tflite-micro and a built quanta.
"""
import json
import os
import re
import subprocess
import sys
import tempfile


def tflm_arena(path):
    from tflite_micro.python.tflite_micro import runtime
    # print_allocations writes from C++ to the process's stdout or stderr: capture both.
    with tempfile.TemporaryFile(mode="w+") as f:
        sys.stdout.flush()
        sys.stderr.flush()
        saved = [os.dup(1), os.dup(2)]
        os.dup2(f.fileno(), 1)
        os.dup2(f.fileno(), 2)
        try:
            it = runtime.Interpreter.from_file(path, arena_size=64 * 1024 * 1024)
            it.print_allocations()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)
        f.seek(0)
        text = f.read()
    values = {k: int(v) for k, v in re.findall(r"Arena allocation (total|head|tail) (\d+) bytes", text)}
    return values


def main():
    root = subprocess.run(["git", "rev-parse", "--show-toplevel"], capture_output=True, text=True).stdout.strip()
    quanta = os.environ.get("QUANTA_BIN", os.path.join(root, ".build/release/quanta"))
    print("| model | TFLM arena total | TFLM head (tensors) | TFLM tail (persistent) | Quanta arena | Quanta / TFLM total | Quanta / TFLM head |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for path in sys.argv[1:]:
        try:
            t = tflm_arena(path)
        except RuntimeError as e:
            print(f"| {os.path.basename(path)} | TFLite Micro cannot load it ({e}) | | | | | |")
            continue
        with tempfile.TemporaryDirectory() as work:
            run = subprocess.run([quanta, "import", path, "-o", os.path.join(work, "m.qmodel"), "--json"],
                                 capture_output=True, text=True)
            if run.returncode != 0:
                print(f"| {os.path.basename(path)} | {t['total']:,} | {t['head']:,} | {t['tail']:,} | "
                      f"quanta import refuses it: {run.stderr.strip()} | | |")
                continue
            out = run.stdout
        q = json.loads(out)["arenaBytes"]
        print(f"| {os.path.basename(path)} | {t['total']:,} | {t['head']:,} | {t['tail']:,} | {q:,} | "
              f"{q / t['total']:.2f} | {q / t['head']:.2f} |")


if __name__ == "__main__":
    main()
