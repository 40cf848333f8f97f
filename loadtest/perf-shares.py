#!/usr/bin/env python3
"""Shares of a perf recording of Switchboard's JVMs, by what the samples were doing.

Record the nodes with frame pointers and their JIT maps, then read the stacks:

    java -jar loadtest/target/loadtest.jar cluster --server switchboard --warmup 180@6000 \
        --rates 6000 --seconds 120 --server-jvm "-Xmx2g -XX:+PreserveFramePointer"
    # during the 120 s step:
    perf record -F 499 -g -p $(pgrep -d, -f switchboard.jar) -o perf.data -- sleep 30
    for p in $(pgrep -f switchboard.jar); do jcmd $p Compiler.perfmap; done
    perf script -i perf.data -F comm,ip,sym > perf.script
    python3 loadtest/perf-shares.py perf.script               # exclusive shares by category
    python3 loadtest/perf-shares.py perf.script jackson       # frames under samples that contain "jackson"

Each sample goes to the first category (in the order below) that any of its frames names, so a sample
in Jackson called from Artery's deserializer counts as Jackson; "native/kernel only" are samples with
no Java frame (mostly futex waits and wake-ups between threads).
"""
import collections
import sys

CATEGORIES = [
    ("jackson", "jackson"),
    ("send-path serializer", "SendPathSerializer"),
    ("artery", "remote.artery"),
    ("remote (other)", "pekko.remote"),
    ("pekko http", "pekko.http"),
    ("pekko io", "pekko.io"),
    ("sharding", "cluster.sharding"),
    ("netty", "io.netty"),
    ("switchboard", "io.switchboard"),
    ("pekko streams", "pekko.stream"),
    ("actors, dispatch", "pekko."),
    ("fork-join pool", "ForkJoin"),
    ("jdk", "java."),
]


def samples(path):
    """(thread name, [frames leaf first]) per sample of `perf script -F comm,ip,sym`."""
    current = None
    with open(path, errors="replace") as lines:
        for line in lines:
            if not line.strip():
                if current:
                    yield current
                current = None
            elif not line[0].isspace():
                current = (line.strip(), [])
            elif current:
                parts = line.strip().split(" ", 1)
                current[1].append(parts[1] if len(parts) > 1 else "")
    if current:
        yield current


def category(thread, frames):
    if thread.startswith(("C1 ", "C2 ")):
        return "JIT compiler"
    if thread.startswith("GC "):
        return "GC"
    for name, part in CATEGORIES:
        if any(part in frame for frame in frames):
            return name
    return "native/kernel only"


def main():
    all_samples = list(samples(sys.argv[1]))
    total = len(all_samples)
    print(f"{total} samples")
    if len(sys.argv) > 2:
        part = sys.argv[2]
        matching = [frames for _, frames in all_samples if any(part in f for f in frames)]
        print(f"{100 * len(matching) / total:5.1f}% contain {part!r}; their frames:")
        frames = collections.Counter(f[:150] for stack in matching for f in set(stack))
        for frame, count in frames.most_common(40):
            print(f"{100 * count / total:5.1f}% {frame}")
        return
    shares = collections.Counter(category(thread, frames) for thread, frames in all_samples)
    for name, count in shares.most_common():
        print(f"{100 * count / total:5.1f}% {name}")


if __name__ == "__main__":
    main()
