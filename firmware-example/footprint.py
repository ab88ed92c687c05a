#!/usr/bin/env python3
"""Footprint of the Cortex-M4F image, split by owner: what `proto` takes.

Builds `examples/cortex_m_image.rs` for thumbv7em-none-eabihf (release profile:
opt-level "z", fat LTO, `debug = 1`), prints `size`, and gives every byte of `.text`
and `.rodata` an owner through the line table:

- an instruction belongs to the innermost inlined frame whose file is in `proto/src/`
  (a `proto` module: `wire`, `client`, `link`, ...) or `firmware-example/src/` (the
  device);
- a function with no such frame (an out-of-line `core`/serde/postcard/heapless helper,
  a machine-outlined sequence, a panic, the formatter, BLAKE3) belongs to whoever
  reaches it through calls, tail calls or function pointers (loaded by code, or held
  in a read-only table that code loads): `proto` if any `proto` code reaches it, even
  when the device does too; else the device. `compiler_builtins` (`memcpy`, `memmove`,
  shifts, divisions), which any program links, is counted apart as the runtime, and
  whatever nothing reaches this way is listed apart too;
- a piece of `.rodata` (from one address the code loads to the next) belongs to the
  owners of the code that loads its address, or of the table that points at it; a
  piece both sides load, or that no code names, is `proto`'s.

The `proto` total (its code, the helpers it reaches, its read-only data) is the
client-side core of issue 7; the goal is 32 KiB.

    python3 firmware-example/footprint.py --defmt      # the defmt image (DEFMT_LOG=info)
    python3 firmware-example/footprint.py              # the image with text logs
    python3 firmware-example/footprint.py --no-build   # measure the last build
    python3 firmware-example/footprint.py --by-file    # proto code by source file
    python3 firmware-example/footprint.py --helpers    # list the helpers proto reaches

Needs `llvm-objdump` and `llvm-symbolizer` of any recent LLVM (or the programs named by
LLVM_OBJDUMP and LLVM_SYMBOLIZER) and binutils' `size`.
"""

import argparse
import bisect
import os
import re
import subprocess
import sys
from collections import defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
TARGET = "thumbv7em-none-eabihf"
GOAL = 32 * 1024

INSN = re.compile(r"^\s*([0-9a-f]+):\s")
FUNC = re.compile(r"^([0-9a-f]+) <(.+)>:$")
# Calls and (conditional) tail calls: any branch to another symbol.
BRANCH = re.compile(r"\sb[a-z]*(?:\.[wn])?\s+0x[0-9a-f]+ <([^$].*?)(?:\+0x[0-9a-f]+)?>(?:\s+@|$)")
WORD = re.compile(r"\.word\s+0x([0-9a-f]+)")
MOVW = re.compile(r"\smovw[a-z]*\s+(\w+), #(\d+)")
MOVT = re.compile(r"\smovt[a-z]*\s+(\w+), #(\d+)")
PC_LOAD = re.compile(r"\sldr[a-z.]*\s.*\[pc, #-?\d+\]\s+@ 0x([0-9a-f]+)")
RUNTIME_NAMES = ("memcpy", "memmove", "memset", "memcmp")

# `--by-file`: proto code split by source file rather than by module.
by_file = False
# `--helpers`: list the helper functions proto reaches.
list_helpers = False


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, text=True, stdout=subprocess.PIPE, **kw).stdout


def tool(name):
    return os.environ.get(name.upper().replace("-", "_"), name)


def build(defmt):
    cmd = ["cargo", "build", "--release", "--example", "cortex_m_image",
           "--target", TARGET, "--manifest-path", os.path.join(HERE, "Cargo.toml")]
    env = dict(os.environ)
    if defmt:
        cmd += ["--features", "defmt"]
        env.setdefault("DEFMT_LOG", "info")
    subprocess.run(cmd, check=True, env=env)


def image_path():
    target_dir = os.environ.get("CARGO_TARGET_DIR", os.path.join(HERE, "target"))
    return os.path.join(target_dir, TARGET, "release", "examples", "cortex_m_image")


def owner_of_file(path):
    """`proto:<module>`, `device`, or the crate of a source file (None if unknown)."""
    m = re.search(r"/proto/src/(.+)$", path)
    if m:
        if by_file:
            return "proto:" + m.group(1)
        first = m.group(1).split("/")[0]
        return "proto:" + (first[:-3] if first.endswith(".rs") else first)
    if "/firmware-example/src/" in path or "/firmware-example/examples/" in path:
        return "device"
    if "/library/compiler-builtins/" in path:
        return "compiler_builtins"
    m = re.search(r"/library/([a-z_]+)/src/", path)
    if m:
        return m.group(1)
    m = re.search(r"/(?:registry/src|git/checkouts)/[^/]+/([A-Za-z0-9_-]+?)-\d[^/]*/", path)
    if m:
        return m.group(1).replace("-", "_")
    return None


def sections(elf):
    """{name: (address, size)} of the allocated sections."""
    out = run([tool("llvm-objdump"), "-h", elf])
    found = {}
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 4 and f[0].isdigit() and f[1].startswith("."):
            found[f[1]] = (int(f[3], 16), int(f[2], 16))
    return found


def disassemble(elf, text_end):
    """Instructions [address, size, function], calls {function: [(index, callee)]},
    literal words [(index, value)] and their loads {literal address: [index]} of
    `.text`. An address built by `movw`/`movt` counts as a literal word of the `movt`
    that loads it."""
    out = run([tool("llvm-objdump"), "-d", "-C", "--no-show-raw-insn", "--section=.text", elf])
    insns, calls, words, loads, func = [], defaultdict(list), [], defaultdict(list), None
    low = {}
    for line in out.splitlines():
        m = FUNC.match(line)
        if m:
            # `$t`, `$d`: ARM mapping symbols (code, data), not functions.
            if not m.group(2).startswith("$"):
                func = m.group(2)
                low = {}
            continue
        m = INSN.match(line)
        if m and func is not None:
            insns.append([int(m.group(1), 16), 0, func])
            c = BRANCH.search(line)
            if c and c.group(1) != func:
                calls[func].append((len(insns) - 1, c.group(1)))
            w = WORD.search(line)
            if w:
                words.append((len(insns) - 1, int(w.group(1), 16)))
            mov = MOVW.search(line)
            if mov:
                low[mov.group(1)] = int(mov.group(2))
            mov = MOVT.search(line)
            if mov and mov.group(1) in low:
                words.append((len(insns) - 1, int(mov.group(2)) << 16 | low[mov.group(1)]))
            load = PC_LOAD.search(line)
            if load:
                loads[int(load.group(1), 16)].append(len(insns) - 1)
    for i, insn in enumerate(insns):
        insn[1] = (insns[i + 1][0] if i + 1 < len(insns) else text_end) - insn[0]
    return insns, calls, words, loads


def symbolize(elf, addrs):
    """For each address, the owners of its inlined frames, innermost first."""
    out = run([tool("llvm-symbolizer"), "--inlining", "--obj=" + elf],
              input="".join("0x%x\n" % a for a in addrs))
    frames = []
    for block in out.split("\n\n")[:len(addrs)]:
        lines = block.strip("\n").split("\n")
        frames.append([owner_of_file(loc.rsplit(":", 2)[0]) for loc in lines[1::2]])
    return frames


def rodata_bytes(elf):
    out = run([tool("llvm-objdump"), "-s", "-j", ".rodata", elf])
    data = bytearray()
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 2 and re.fullmatch(r"[0-9a-f]+", f[0]) and re.fullmatch(r"[0-9a-f]{2,8}", f[1]):
            for chunk in f[1:5]:
                if re.fullmatch(r"[0-9a-f]{2,8}", chunk):
                    data += bytes.fromhex(chunk)
    return bytes(data)


def side(who):
    return "proto" if who.startswith("proto") else who


def attribute(elf):
    secs = sections(elf)
    text_start, text_size = secs[".text"]
    insns, calls, words, loads = disassemble(elf, text_start + text_size)
    frames = symbolize(elf, [a for a, _, _ in insns])
    project = lambda o: o is not None and (o == "device" or o.startswith("proto:"))

    # Instructions with a project frame; functions with none are "helpers".
    owner = [None] * len(insns)
    fn_crate, fn_project, fn_at = {}, defaultdict(bool), {}
    for i, (insn, fr) in enumerate(zip(insns, frames)):
        owner[i] = next((o for o in fr if project(o)), None)
        if owner[i] is not None:
            fn_project[insn[2]] = True
        if fr and fr[-1] is not None:
            fn_crate.setdefault(insn[2], fr[-1])
        fn_at.setdefault(insn[2], insn[0])
    fn_at = {a: fn for fn, a in fn_at.items()}
    # Literal pools and unsymbolized bytes inside a project function follow the
    # instruction before them (or the function's first owned one).
    first = {}
    for i, insn in enumerate(insns):
        if owner[i] is not None:
            first.setdefault(insn[2], owner[i])
    last = {}
    for i, insn in enumerate(insns):
        fn = insn[2]
        if owner[i] is None and fn_project[fn]:
            owner[i] = last.get(fn, first[fn])
        last[fn] = owner[i]
    # A literal word belongs to the code that loads it; a function address it holds is a
    # call from there (a function pointer: `core::fmt` arguments, vtables).
    words = [(i, value, loads.get(insns[i][0], [i])) for i, value in words]
    for _, value, loaders in words:
        target = fn_at.get(value & ~1)
        if target is not None:
            for j in loaders:
                calls[insns[j][2]].append((j, target))

    helpers = {insn[2] for insn in insns if not fn_project[insn[2]]}
    runtime = {h for h in helpers if fn_crate.get(h) == "compiler_builtins"
               or h.startswith("__aeabi") or h in RUNTIME_NAMES}
    table_calls = {}  # side -> functions named by read-only tables that side loads
    while True:
        helper_owner = reach(insns, calls, owner, fn_project, helpers, runtime, table_calls)
        side_of = [side(owner[i]) if fn_project[fn] else helper_owner.get(fn, "pointers only")
                   for i, (_, _, fn) in enumerate(insns)]
        rodata, named = attribute_rodata(
            elf, secs, [(value, {side_of[j] for j in loaders}) for _, value, loaders in words],
            fn_at)
        if named == table_calls:
            break
        table_calls = named

    helper_fns = defaultdict(int)  # helper functions proto reaches, for --helpers
    text = defaultdict(int)     # proto modules, and "device", "runtime", ... for the rest
    helper_text = defaultdict(int)  # helpers proto reaches, by crate
    for i, (_, size, fn) in enumerate(insns):
        who, crate = side_of[i], fn_crate.get(fn) or "outlined"
        if fn_project[fn]:
            text[owner[i]] += size
        elif who == "proto":
            helper_text[crate] += size
            helper_fns[fn] += size
        elif who == "runtime":
            text["runtime (compiler_builtins)"] += size
        elif who == "device":
            text["%s (device-only helpers)" % crate] += size
        else:
            text["%s (%s)" % (crate, who)] += size
    return text, helper_text, rodata, helper_fns


def reach(insns, calls, owner, fn_project, helpers, runtime, table_calls):
    """Which side reaches each helper: proto first, then the device; the runtime (and
    whatever only it reaches) apart."""
    helper_owner = {}
    for who in ("proto", "device", "runtime"):
        if who == "runtime":
            todo = list(runtime)
        else:
            todo = [callee for fn, cs in calls.items() if fn_project[fn]
                    for i, callee in cs if side(owner[i]) == who]
            todo += table_calls.get(who, [])
        while todo:
            h = todo.pop()
            if h in helpers and h not in helper_owner and (h not in runtime or who == "runtime"):
                helper_owner[h] = who
                todo.extend(callee for _, callee in calls.get(h, ()))
    return helper_owner


def attribute_rodata(elf, secs, loads, fn_at):
    """Bytes of `.rodata` by side ("proto", "device", ...), and the functions each side's
    tables point at ({side: [function]})."""
    if ".rodata" not in secs:
        return {}, {}
    start, size = secs[".rodata"]
    end = start + size
    data = rodata_bytes(elf)
    loaded = defaultdict(set)  # rodata address -> sides of the code loading it
    for value, sides in loads:
        if start <= value < end:
            loaded[value] |= sides
    pointed = defaultdict(set)  # rodata address -> rodata addresses of tables pointing at it
    functions = []  # (rodata address, function) of function pointers in tables
    for off in range(0, len(data) - 3, 4):
        value = int.from_bytes(data[off:off + 4], "little")
        if start <= value < end:
            pointed[value].add(start + off)
        elif value & ~1 in fn_at:
            functions.append((start + off, fn_at[value & ~1]))
    cuts = sorted({start} | set(loaded) | set(pointed))
    pieces = [(a, (cuts[k + 1] if k + 1 < len(cuts) else end) - a) for k, a in enumerate(cuts)]
    piece_of = lambda addr: cuts[bisect.bisect_right(cuts, addr) - 1]
    sides = {a: set(loaded.get(a, ())) for a, _ in pieces}
    changed = True
    while changed:  # tables pass their owners to what they point at
        changed = False
        for a, _ in pieces:
            for table in pointed.get(a, ()):
                new = sides[piece_of(table)] - sides[a]
                if new:
                    sides[a] |= new
                    changed = True
    owner = {a: "proto" if "proto" in s or not s else "device" if "device" in s else sorted(s)[0]
             for a, s in sides.items()}
    out = defaultdict(int)
    for a, n in pieces:
        out[owner[a]] += n
    named = defaultdict(list)
    for at, fn in functions:
        named[owner[piece_of(at)]].append(fn)
    return out, {k: sorted(v) for k, v in named.items()}


def report(elf):
    print(run(["size", elf]), end="")
    text, helper_text, rodata, helper_fns = attribute(elf)
    modules = {k[6:]: v for k, v in text.items() if k.startswith("proto:")}
    code, helpers = sum(modules.values()), sum(helper_text.values())
    total = code + helpers + rodata.get("proto", 0)
    row = lambda k, v: print("  %-30s %6d" % (k, v))
    print("\nproto code (innermost proto frame), by %s:" % ("file" if by_file else "module"))
    for k, v in sorted(modules.items(), key=lambda kv: -kv[1]):
        row(k, v)
    row("= proto code", code)
    print("out-of-line helpers proto reaches, by crate:")
    for k, v in sorted(helper_text.items(), key=lambda kv: -kv[1]):
        row(k, v)
    if list_helpers:
        for k, v in sorted(helper_fns.items(), key=lambda kv: -kv[1]):
            print("    %6d %s" % (v, k[:100]))
    row("= helpers", helpers)
    print(".rodata, by side:")
    for k, v in sorted(rodata.items(), key=lambda kv: -kv[1]):
        row(k, v)
    print("proto total: %d + %d + %d = %d bytes = %.1f KiB (goal 32 KiB = %d: %s)"
          % (code, helpers, rodata.get("proto", 0), total, total / 1024, GOAL,
             "met" if total <= GOAL else "NOT met"))
    print("rest of .text:")
    for k, v in sorted(((k, v) for k, v in text.items() if not k.startswith("proto:")),
                       key=lambda kv: -kv[1]):
        row(k, v)


def main():
    global by_file, list_helpers
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--defmt", action="store_true", help="build with the defmt feature")
    p.add_argument("--no-build", action="store_true", help="measure the last build")
    p.add_argument("--by-file", action="store_true", help="split proto code by source file")
    p.add_argument("--helpers", action="store_true", help="list the helpers proto reaches")
    p.add_argument("elf", nargs="?", help="an image to measure instead of building one")
    a = p.parse_args()
    by_file, list_helpers = a.by_file, a.helpers
    if a.elf is None and not a.no_build:
        build(a.defmt)
    report(a.elf or image_path())


if __name__ == "__main__":
    try:
        main()
    except BrokenPipeError:
        sys.exit(0)
