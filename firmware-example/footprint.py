#!/usr/bin/env python3
"""Footprint of the Cortex-M4F image, split by owner.

Builds `examples/cortex_m_image.rs` for thumbv7em-none-eabihf (release profile:
opt-level "z", LTO, `debug = 1`), prints `size` and gives every byte of `.text` to an
owner through the line table:

- an instruction belongs to the innermost inlined frame whose file is in `proto/src/`
  (a `proto` module: `wire`, `client`, `link`, …) or `firmware-example/src/` (the
  device);
- a function with no such frame at all (an out-of-line `core`/serde/postcard/heapless
  helper, a machine-outlined sequence, BLAKE3, `memcpy`…) belongs to its callers: it
  is `proto`'s if any call or tail call to it comes from `proto` code or from another
  function that is `proto`'s (counted whole, even when the device calls it too);
  otherwise it is the device's, BLAKE3's or the runtime's;
- `.rodata` is counted whole to `proto` (an upper bound: it also holds BLAKE3's
  constants and the device's strings).

The `proto` total is the client-side core of issue 7; the goal is 32 KiB.

    python3 firmware-example/footprint.py               # plain logs
    python3 firmware-example/footprint.py --defmt       # defmt logs (DEFMT_LOG=info)
    python3 firmware-example/footprint.py --no-build    # measure the last build

Needs `llvm-objdump` and `llvm-symbolizer` (any recent LLVM; override with the
LLVM_OBJDUMP / LLVM_SYMBOLIZER variables) and `size`.
"""

import argparse
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
CALL = re.compile(r"\sb[a-z]*(?:\.[wn])?\s+0x[0-9a-f]+ <([^$].*?)(?:\+0x[0-9a-f]+)?>(?:\s+@|$)")

# Everything that is neither `proto` nor the device, by the crate of the function.
RUNTIME = {"compiler_builtins"}
# `--by-file`: proto code split by source file rather than by module.
BY_FILE = False


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, text=True, stdout=subprocess.PIPE, **kw).stdout


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
    """`proto:<module>`, `device`, or the crate name for a source file."""
    path = path.replace("\\", "/")
    m = re.search(r"/proto/src/(.+)$", path)
    if m:
        if BY_FILE:
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


def disassemble(elf):
    """[(address, size, function)] for `.text`, plus the calls of every function."""
    out = run([os.environ.get("LLVM_OBJDUMP", "llvm-objdump"), "-d", "-C", "--no-show-raw-insn",
               "--section=.text", elf])
    insns, calls, func = [], defaultdict(list), None
    for line in out.splitlines():
        m = FUNC.match(line)
        if m:
            # `$t`, `$d`: ARM mapping symbols (code/data), not functions.
            if not m.group(2).startswith("$"):
                func = m.group(2)
            continue
        m = INSN.match(line)
        if m and func is not None:
            insns.append([int(m.group(1), 16), 0, func])
            c = CALL.search(line)
            if c and c.group(1) != func:
                calls[func].append((len(insns) - 1, c.group(1)))
    end = text_end(elf)
    for i, insn in enumerate(insns):
        insn[1] = (insns[i + 1][0] if i + 1 < len(insns) else end) - insn[0]
    return insns, calls


def text_end(elf):
    out = run([os.environ.get("LLVM_OBJDUMP", "llvm-objdump"), "-h", elf])
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 4 and f[1] == ".text":
            return int(f[3], 16) + int(f[2], 16)
    sys.exit("no .text section")


def symbolize(elf, addrs):
    """For each address, its inlined frames' owners, innermost first."""
    out = run([os.environ.get("LLVM_SYMBOLIZER", "llvm-symbolizer"), "--inlining",
               "--obj=" + elf], input="".join("0x%x\n" % a for a in addrs))
    frames, current = [], []
    lines = out.split("\n")
    i = 0
    while i < len(lines) and len(frames) < len(addrs):
        if lines[i] == "":
            frames.append(current)
            current = []
            i += 1
            continue
        current.append(owner_of_file(lines[i + 1].rsplit(":", 2)[0]) if i + 1 < len(lines) else None)
        i += 2
    return frames


def section_sizes(elf):
    out = run(["size", "-A", elf])
    sizes = {}
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 2 and f[1].isdigit():
            sizes[f[0]] = int(f[1])
    return sizes


def attribute(elf):
    insns, calls = disassemble(elf)
    frames = symbolize(elf, [a for a, _, _ in insns])
    project = lambda o: o is not None and (o == "device" or o.startswith("proto:"))
    # Instruction owners; functions without any project frame are decided by callers.
    owner = [None] * len(insns)
    fn_crate, fn_project = {}, defaultdict(bool)
    for i, (insn, fr) in enumerate(zip(insns, frames)):
        inner = next((o for o in fr if project(o)), None)
        owner[i] = inner
        fn = insn[2]
        if inner is not None:
            fn_project[fn] = True
        if fr and fr[-1] is not None:
            fn_crate.setdefault(fn, fr[-1])
    # Data words and unsymbolized bytes inside a project function follow the previous
    # instruction of that function.
    last = {}
    for i, insn in enumerate(insns):
        fn = insn[2]
        if owner[i] is None and fn_project[fn]:
            owner[i] = last.get(fn) or next(o for j, o in enumerate(owner) if insns[j][2] == fn and o)
        if owner[i] is not None:
            last[fn] = owner[i]
    # Functions without a project frame ("helpers") belong to whoever reaches them
    # through calls: proto first (a helper the device calls too is still proto's), then
    # the device. The runtime (`memcpy`, division…) is counted apart.
    helpers = {insn[2] for insn in insns if not fn_project[insn[2]]}
    runtime = {h for h in helpers if fn_crate.get(h) in RUNTIME or h.startswith("__aeabi")
               or h in ("memcpy", "memmove", "memset", "memcmp")}
    helper_owner = {}
    for side in ("proto", "device", "runtime"):
        if side == "runtime":
            todo = list(runtime)
        else:
            todo = [callee for fn, cs in calls.items() if fn_project[fn]
                    for idx, callee in cs if owner[idx].startswith(side)]
        while todo:
            h = todo.pop()
            if h in helpers and h not in helper_owner and (h not in runtime or side == "runtime"):
                helper_owner[h] = side
                todo.extend(callee for _, callee in calls.get(h, ()))
    sizes = defaultdict(int)
    helper_sizes = defaultdict(int)
    for i, (addr, size, fn) in enumerate(insns):
        if fn_project[fn]:
            sizes[owner[i]] += size
            continue
        who = helper_owner.get(fn)
        crate = fn_crate.get(fn) or ("outlined" if fn.startswith("OUTLINED_FUNCTION") else "other")
        if who == "proto":
            helper_sizes[crate] += size
        elif who is None:
            sizes["unreached (%s)" % crate] += size
        elif who == "runtime":
            sizes["runtime (memcpy, division)"] += size
        else:
            sizes["%s, called by the device" % crate] += size
    return sizes, helper_sizes


def report(elf):
    sec = section_sizes(elf)
    print(run(["size", elf]), end="")
    sizes, helper_sizes = attribute(elf)
    rodata = sec.get(".rodata", 0)
    modules = {k[6:]: v for k, v in sizes.items() if k and k.startswith("proto:")}
    code = sum(modules.values())
    helpers = sum(helper_sizes.values())
    total = code + helpers + rodata
    print()
    print("proto modules (instructions, innermost proto frame):")
    for k, v in sorted(modules.items(), key=lambda kv: -kv[1]):
        print("  %-24s %6d" % (k, v))
    print("  %-24s %6d" % ("= proto code", code))
    print("out-of-line helpers proto calls (by crate):")
    for k, v in sorted(helper_sizes.items(), key=lambda kv: -kv[1]):
        print("  %-24s %6d" % (k, v))
    print("  %-24s %6d" % ("= helpers", helpers))
    print("  %-24s %6d" % (".rodata (all of it)", rodata))
    print("proto total: %d bytes = %.1f KiB (goal %d = 32 KiB: %s)"
          % (total, total / 1024, GOAL, "met" if total <= GOAL else "NOT met"))
    print("rest of .text:")
    for k, v in sorted(((k, v) for k, v in sizes.items() if not (k and k.startswith("proto:"))),
                       key=lambda kv: -kv[1]):
        print("  %-24s %6d" % (k, v))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--defmt", action="store_true", help="build with the defmt feature")
    p.add_argument("--no-build", action="store_true", help="measure the existing image")
    p.add_argument("elf", nargs="?", help="an image to measure instead of building one")
    p.add_argument("--by-file", action="store_true", help="split proto code by source file")
    a = p.parse_args()
    global BY_FILE
    BY_FILE = a.by_file
    if a.elf is None and not a.no_build:
        build(a.defmt)
    report(a.elf or image_path())


if __name__ == "__main__":
    main()
