#!/usr/bin/env python3
"""Who keeps what alive in a Java heap dump (HPROF), without a heap analyzer.

    python3 loadtest/hprof-paths.py DUMP --histo 30
        live objects (reachable from the GC roots) by class: count and shallow bytes
    python3 loadtest/hprof-paths.py DUMP --paths CLASS [--count 3]
        the shortest chains from a GC root to the live instances of CLASS (exact name), each step
        with the field (or array index) that holds the next object; alike chains (same fields and
        classes) counted together, the COUNT commonest shown
    python3 loadtest/hprof-paths.py DUMP --block CLASS [--histo 30]
        what only instances of CLASS keep alive (repeatable): the live totals with and without
        them (every reference to an instance of CLASS ignored), and the difference by class

Make the dump with `jcmd PID GC.heap_dump FILE` (live objects only, by default). Shallow sizes are
HotSpot's with compressed references: a 12-byte header, 4-byte references, 8-byte alignment; arrays
a 16-byte header. Class objects count 0 bytes. Used for BENCHMARKS.md's Pekko HTTP investigation.
"""

import argparse
import collections
import mmap
import struct
import sys

# Bytes of a value of each basic type in the dump; 2 (an object reference) is the dump's id size.
BASIC_SIZES = {4: 1, 5: 2, 6: 4, 7: 8, 8: 1, 9: 2, 10: 4, 11: 8}
SHALLOW_SIZES = {2: 4, 4: 1, 5: 2, 6: 4, 7: 8, 8: 1, 9: 2, 10: 4, 11: 8}
PRIMITIVE_ARRAYS = {4: "boolean[]", 5: "char[]", 6: "float[]", 7: "double[]", 8: "byte[]",
                    9: "short[]", 10: "int[]", 11: "long[]"}
ROOT_SKIPS = {0xFF: 0, 0x01: 1, 0x02: 8, 0x03: 8, 0x04: 4, 0x05: 0, 0x06: 4, 0x07: 0, 0x08: 8}


def align8(n):
    return (n + 7) & ~7


class Heap:
    def __init__(self, path):
        with open(path, "rb") as f:
            self.data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        data = self.data
        end = data.find(b"\0")
        self.id_size = struct.unpack_from(">I", data, end + 1)[0]
        self.id_fmt = ">Q" if self.id_size == 8 else ">I"
        self.value_sizes = {**BASIC_SIZES, 2: self.id_size}
        self.strings = {}
        self.class_names = {}
        self.classes = {}  # class id -> (super id, [(field name id, type)], [static ref ids])
        self.objects = {}  # id -> (kind, class id or element type, offset, count)
        self.roots = []
        pos = end + 1 + 4 + 8
        while pos < len(data):
            tag = data[pos]
            length = struct.unpack_from(">I", data, pos + 5)[0]
            body = pos + 9
            if tag == 0x01:
                sid = self.read_id(body)
                self.strings[sid] = data[body + self.id_size:body + length].decode("utf-8", "replace")
            elif tag == 0x02:
                cid = self.read_id(body + 4)
                self.class_names[cid] = self.read_id(body + 8 + self.id_size)
            elif tag in (0x0C, 0x1C):
                self.parse_segment(body, body + length)
            pos = body + length
        self.class_names = {cid: self.strings.get(sid, "?").replace("/", ".")
                            for cid, sid in self.class_names.items()}
        self.layouts = {}

    def read_id(self, pos):
        return struct.unpack_from(self.id_fmt, self.data, pos)[0]

    def parse_segment(self, pos, end):
        data, ids, sizes = self.data, self.id_size, self.value_sizes
        while pos < end:
            sub = data[pos]
            pos += 1
            if sub in ROOT_SKIPS:
                self.roots.append(self.read_id(pos))
                pos += ids + ROOT_SKIPS[sub] * (ids if sub == 0x01 else 1)
            elif sub == 0x20:
                cid = self.read_id(pos)
                super_id = self.read_id(pos + 4 + ids)
                loader = self.read_id(pos + 4 + 2 * ids)
                pos += 4 + 7 * ids + 4
                statics = [super_id, loader]
                (n,) = struct.unpack_from(">H", data, pos)
                pos += 2
                for _ in range(n):
                    t = data[pos + 2]
                    pos += 3 + sizes[t]
                (n,) = struct.unpack_from(">H", data, pos)
                pos += 2
                for _ in range(n):
                    t = data[pos + ids]
                    if t == 2:
                        statics.append(self.read_id(pos + ids + 1))
                    pos += ids + 1 + sizes[t]
                (n,) = struct.unpack_from(">H", data, pos)
                pos += 2
                fields = []
                for _ in range(n):
                    fields.append((self.read_id(pos), data[pos + ids]))
                    pos += ids + 1
                self.classes[cid] = (super_id, fields, statics)
                self.objects[cid] = ("C", cid, 0, 0)
            elif sub == 0x21:
                oid = self.read_id(pos)
                cid = self.read_id(pos + 4 + ids)
                (n,) = struct.unpack_from(">I", data, pos + 4 + 2 * ids)
                self.objects[oid] = ("I", cid, pos + 8 + 2 * ids, n)
                pos += 8 + 2 * ids + n
            elif sub == 0x22:
                oid = self.read_id(pos)
                (n,) = struct.unpack_from(">I", data, pos + 4 + ids)
                cid = self.read_id(pos + 8 + ids)
                self.objects[oid] = ("A", cid, pos + 8 + 2 * ids, n)
                pos += 8 + 2 * ids + n * ids
            elif sub == 0x23:
                oid = self.read_id(pos)
                (n,) = struct.unpack_from(">I", data, pos + 4 + ids)
                t = data[pos + 8 + ids]
                self.objects[oid] = ("P", t, 0, n)
                pos += 9 + ids + n * sizes[t]
            else:
                raise ValueError("unknown heap dump sub-record 0x%02x at %d" % (sub, pos - 1))

    def layout(self, cid):
        """(reference fields as (name, offset), shallow size) of an instance of class cid."""
        cached = self.layouts.get(cid)
        if cached is None:
            refs, offset, shallow, c = [], 0, 12, cid
            while c in self.classes:
                super_id, fields, _ = self.classes[c]
                for name_id, t in fields:
                    if t == 2:
                        refs.append((self.strings.get(name_id, "?"), offset))
                    offset += self.value_sizes[t]
                    shallow += SHALLOW_SIZES[t]
                c = super_id
            cached = self.layouts[cid] = (refs, align8(shallow))
        return cached

    def name(self, oid):
        kind, c, _, _ = self.objects[oid]
        if kind == "P":
            return PRIMITIVE_ARRAYS[c]
        if kind == "C":
            return "class " + self.class_names.get(oid, "?")
        return self.class_names.get(c, "?")

    def size(self, oid):
        kind, c, _, n = self.objects[oid]
        if kind == "I":
            return self.layout(c)[1]
        if kind == "A":
            return align8(16 + 4 * n)
        if kind == "P":
            return align8(16 + SHALLOW_SIZES[c] * n)
        return 0

    def references(self, oid):
        """(label, referenced id) for every non-null reference out of oid."""
        kind, c, off, n = self.objects[oid]
        if kind == "I":
            for name, field_offset in self.layout(c)[0]:
                ref = self.read_id(off + field_offset)
                if ref:
                    yield name, ref
        elif kind == "A":
            for i in range(n):
                ref = self.read_id(off + i * self.id_size)
                if ref:
                    yield "[%d]" % i, ref
        elif kind == "C":
            for ref in self.classes[oid][2]:
                if ref:
                    yield "<static>", ref

    def reachable(self, blocked=frozenset()):
        """Live ids from the GC roots, each with (parent, label); instances of blocked classes skipped."""
        parents = {}
        queue = collections.deque()
        for root in self.roots:
            if root in self.objects and root not in parents and self.name(root) not in blocked:
                parents[root] = (None, "<root>")
                queue.append(root)
        while queue:
            oid = queue.popleft()
            for label, ref in self.references(oid):
                if ref in self.objects and ref not in parents and self.name(ref) not in blocked:
                    parents[ref] = (oid, label)
                    queue.append(ref)
        return parents

    def histogram(self, ids):
        histo = collections.defaultdict(lambda: [0, 0])
        for oid in ids:
            entry = histo[self.name(oid)]
            entry[0] += 1
            entry[1] += self.size(oid)
        return histo


def print_histogram(title, histo, top):
    total_count = sum(c for c, _ in histo.values())
    total_bytes = sum(b for _, b in histo.values())
    print("%s: %d objects, %d bytes" % (title, total_count, total_bytes))
    for name, (count, size) in sorted(histo.items(), key=lambda e: -e[1][1])[:top]:
        print("  %12d B %9d  %s" % (size, count, name))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dump")
    parser.add_argument("--histo", type=int, default=0, metavar="TOP")
    parser.add_argument("--paths", metavar="CLASS")
    parser.add_argument("--count", type=int, default=3)
    parser.add_argument("--block", metavar="CLASS", action="append", default=[])
    args = parser.parse_args()
    heap = Heap(args.dump)
    print("%s: %d objects, %d roots" % (args.dump, len(heap.objects), len(heap.roots)))
    live = heap.reachable()
    if args.histo and not args.block:
        print_histogram("live", heap.histogram(live), args.histo)
    if args.paths:
        signatures = collections.Counter()
        for oid in live:
            if heap.name(oid) != args.paths:
                continue
            chain = []
            node = oid
            while node is not None:
                parent, label = live[node]
                chain.append(("[i]" if label.startswith("[") else label, heap.name(node)))
                node = parent
            signatures[tuple(reversed(chain))] += 1
        if not signatures:
            print("no live instance of " + args.paths)
        total = sum(signatures.values())
        for rank, (chain, count) in enumerate(signatures.most_common(args.count), 1):
            print("path %d of %d distinct, %d of the %d live instances:" % (rank, len(signatures), count, total))
            for label, name in chain:
                print("  %-28s %s" % (label, name))
    if args.block:
        kept = heap.reachable(frozenset(args.block))
        full = heap.histogram(live)
        without = heap.histogram(kept)
        diff = {name: [count - without.get(name, (0, 0))[0], size - without.get(name, (0, 0))[1]]
                for name, (count, size) in full.items()}
        diff = {name: e for name, e in diff.items() if e[0] or e[1]}
        print_histogram("live", full, 0)
        print_histogram("live without " + ", ".join(args.block), without, 0)
        print_histogram("kept alive only through them", diff, args.histo or 30)


if __name__ == "__main__":
    sys.exit(main())
