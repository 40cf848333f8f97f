#!/usr/bin/env python3
"""The committed summaries behind BENCHMARKS.md's tables, made from the raw results files.

The load generator writes one raw JSON file per scenario, server and run into loadtest/results/
(<scenario>-<server>[-tls|-tlsproxy][-label][-runK].json); git ignores them. Each table of
BENCHMARKS.md is backed by one summary, loadtest/results/summary/<table>.json: the runs it quotes,
each cut down to the fields the table and the plots use, with the command that made it.

  python3 loadtest/results/summarize.py             # (re)write every summary whose runs are present
  python3 loadtest/results/summarize.py --plot-root DIR
      # write the plots' input files from the summaries into DIR/loadtest/results, then
      # java -jar loadtest/target/loadtest.jar plot --root DIR   draws the PNGs there

After a new run: point TABLES below at its files, run this, copy the figures into BENCHMARKS.md and
add an entry to LOG.md.
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SUMMARY = os.path.join(HERE, "summary")
JAR = "java -jar loadtest/target/loadtest.jar"

# table -> (the commands that made its runs, the raw files it quotes)
TABLES = {
    "capacity-plain": (
        [JAR + " capacity --server switchboard --steps 5000,10000 --label pinganswers",
         JAR + " capacity --server switchboard --steps 5000,10000 --edge netty --label edge-netty",
         JAR + " capacity --server switchboard --steps 19000 --connect-rate 1000 --histograms --label direct",
         JAR + " capacity --label online"],
        ["capacity-switchboard-pinganswers.json", "capacity-switchboard-edge-netty.json",
         "capacity-switchboard-edge-netty-run2.json", "capacity-switchboard-direct.json",
         "capacity-socketio-online.json", "capacity-switchboard-g1.json"]),
    "capacity-tls": (
        [JAR + " capacity --tls --steps 5000,10000 --histograms --label direct",
         JAR + " capacity --server switchboard --tls --steps 5000,10000 --edge netty --label edge-netty"],
        ["capacity-switchboard-tls-direct.json", "capacity-switchboard-tls-edge-netty.json",
         "capacity-socketio-tls-direct.json"]),
    "capacity-haproxy": (
        [JAR + " capacity --tls-proxy --steps 5000,10000",
         JAR + " capacity --server switchboard --tls-proxy --steps 5000,10000 --edge netty --label edge-netty"],
        ["capacity-switchboard-tlsproxy-edge-netty.json", "capacity-switchboard-tlsproxy.json",
         "capacity-socketio-tlsproxy.json"]),
    "capacity-3nodes": (
        [JAR + " capacity --nodes 3 --steps 19000,38000,57000 --connect-rate 500 --label shared57k"],
        ["capacity-3nodes-switchboard-shared57k.json", "capacity-3nodes-socketio-shared57k.json"]),
    "storm": (
        [JAR + " storm --label disp2-1", JAR + " storm --server switchboard --label disp2-2",
         JAR + " storm --storm-warmup 10000 --label disp2warm",
         JAR + " storm --server switchboard --storm-warmup 10000 --label disp2warm2"],
        ["storm-switchboard-disp2-1.json", "storm-switchboard-disp2-2.json", "storm-socketio-disp2-1.json",
         "storm-switchboard-disp2warm.json", "storm-switchboard-disp2warm2.json",
         "storm-socketio-disp2warm.json"]),
    "throughput": (
        [JAR + ' throughput --repeat 3 --warmup 60@1000 --server-jvm "-Xmx2g" --label nettysender',
         JAR + ' throughput --server socketio --warmup 60@1000 --server-jvm "-Xmx2g" --label edges-K',
         JAR + ' throughput --server switchboard --edge netty --warmup 60@1000 --server-jvm "-Xmx2g"'
         + " --label edges-netty-K"],
        ["throughput-switchboard-nettysender.json", "throughput-socketio-nettysender.json"]
        + ["throughput-%s-nettysender-run%d.json" % (s, k) for s in ("switchboard", "socketio") for k in (1, 2, 3)]
        + ["throughput-socketio-edges-1.json", "throughput-socketio-edges-2.json",
           "throughput-switchboard-edges-netty-1.json", "throughput-switchboard-edges-netty-2.json",
           "throughput-switchboard-ceiling.json"]),
    "latency": (
        [JAR + ' latency --repeat 3 --rates 4000 --warmup 60@1000 --server-jvm "-Xmx2g" --label nettysender',
         JAR + ' latency --server socketio --rates 1000 --warmup 60@1000 --server-jvm "-Xmx2g" --label edges-K',
         JAR + ' latency --server switchboard --edge netty --rates 1000 --warmup 60@1000 --server-jvm "-Xmx2g"'
         + " --label edges-netty-K"],
        ["latency-%s-nettysender-run%d.json" % (s, k) for s in ("switchboard", "socketio") for k in (1, 2, 3)]
        + ["latency-socketio-edges-1.json", "latency-socketio-edges-2.json",
           "latency-switchboard-edges-netty-1.json", "latency-switchboard-edges-netty-2.json"]),
    "cluster": (
        [JAR + ' cluster --repeat 3 --warmup 300 --server-jvm "-Xmx2g"'
         + " --rates 2000,4000,6000,8000,10000,12000,14000,16000 --label median3"],
        ["cluster-switchboard-median3.json", "cluster-socketio-median3.json"]
        + ["cluster-%s-median3-run%d.json" % (s, k) for s in ("switchboard", "socketio") for k in (1, 2, 3)]
        + ["cluster-switchboard-nettysender.json", "cluster-socketio-nettysender.json"]
        + ["cluster-%s-nettysender-run%d.json" % (s, k) for s in ("switchboard", "socketio") for k in (1, 2, 3)]),
    "slow-readers": (
        [JAR + " slow-readers"],
        ["slow-readers-switchboard.json", "slow-readers-socketio.json"]),
    "edges": (
        [JAR + " capacity --server switchboard --steps 5000,10000 --edge EDGE --label edge-EDGE",
         JAR + " capacity --server switchboard --tls --steps 5000,10000 --edge netty --label edge-netty",
         JAR + " capacity --server switchboard --tls --steps 5000,10000 --edge pekko --connect-rate 100"
         + " --label edge-pekko",
         JAR + " capacity --server switchboard --tls-proxy --steps 5000,10000 --edge EDGE --label edge-EDGE",
         JAR + ' throughput --server switchboard --edge EDGE --warmup 60@1000 --server-jvm "-Xmx2g"'
         + " --label edges-EDGE-K",
         JAR + ' latency --server switchboard --edge EDGE --rates 1000 --warmup 60@1000 --server-jvm "-Xmx2g"'
         + " --label edges-EDGE-K"],
        ["capacity-switchboard-edge-%s%s.json" % (e, r) for e in ("netty", "pekko") for r in ("", "-run2")]
        + ["capacity-switchboard-tls-edge-netty.json", "capacity-switchboard-tls-edge-pekko.json",
           "capacity-switchboard-tlsproxy-edge-netty.json", "capacity-switchboard-tlsproxy-edge-pekko.json"]
        + ["%s-switchboard-edges-%s-%d.json" % (s, e, k) for s in ("throughput", "latency")
           for e in ("netty", "pekko") for k in (1, 2)]),
}

# The plots' inputs (the names loadtest's Plot reads) and the summarized run each comes from.
PLOT_INPUTS = {
    "throughput-switchboard-nettysender.json": ("throughput", "throughput-switchboard-nettysender.json"),
    "throughput-socketio-nettysender.json": ("throughput", "throughput-socketio-nettysender.json"),
    "cluster-switchboard-median3.json": ("cluster", "cluster-switchboard-median3.json"),
    "cluster-socketio-median3.json": ("cluster", "cluster-socketio-median3.json"),
    "capacity-switchboard.json": ("capacity-plain", "capacity-switchboard-pinganswers.json"),
    "capacity-socketio.json": ("capacity-plain", "capacity-socketio-online.json"),
    "capacity-switchboard-tls.json": ("capacity-tls", "capacity-switchboard-tls-edge-netty.json"),
    "capacity-socketio-tls.json": ("capacity-tls", "capacity-socketio-tls-direct.json"),
    "capacity-switchboard-tlsproxy.json": ("capacity-haproxy", "capacity-switchboard-tlsproxy-edge-netty.json"),
    "capacity-socketio-tlsproxy.json": ("capacity-haproxy", "capacity-socketio-tlsproxy.json"),
    "slow-readers-switchboard.json": ("slow-readers", "slow-readers-switchboard.json"),
    "slow-readers-socketio.json": ("slow-readers", "slow-readers-socketio.json"),
}

HEADER = ["scenario", "server", "nodes", "tls", "edge", "serverJvm", "cores", "java", "users", "devicesPerUser",
          "stepSeconds", "apiConnectionsPerNode", "warmupSeconds", "warmupRate", "highestHeldRate", "runs",
          "clients", "generatorProcesses", "warmupClients", "failed", "allOpenSeconds", "allOnlineSeconds",
          "connectsPerSecond", "onlinePerSecond", "serverCpuMicrosPerConnection", "machineCoresBusyUntilOpen",
          "serverCoresUntilOpen", "otherCpuMicrosPerConnection", "rate", "messageBytes", "seconds", "sent",
          "errors", "baseline"]
STEP = ["connections", "failed", "rssBytes", "proxyRssBytes", "heapBytes", "rssPerConnection",
        "heapPerConnection", "connectsPerSecond", "online", "allOnline", "onlinePerSecond",
        "serverCpuMicrosPerConnection", "rate", "sentPerSecond", "sent", "skipped", "lost", "duplicates",
        "p50ms", "p99ms", "p999ms", "serverCpuMicrosPerSend", "held"]
SAMPLE = ["seconds", "rssBytes", "heapBytes", "serverConnections", "closed1013"]


def measured(path):
    """The date of the commit that added a raw file, or for an untracked one its modification day."""
    try:
        out = subprocess.run(["git", "log", "--diff-filter=A", "--format=%as", "-1", "--", path],
                             cwd=HERE, capture_output=True, text=True, check=True).stdout.strip()
        if out:
            return out
    except (OSError, subprocess.CalledProcessError):
        pass
    import datetime
    return datetime.date.fromtimestamp(os.path.getmtime(path)).isoformat()


def trim(run):
    out = {k: run[k] for k in HEADER if k in run}
    if "steps" in run:
        out["steps"] = [{k: s[k] for k in STEP if k in s} for s in run["steps"]]
    if "samples" in run:
        out["samples"] = [{k: s[k] for k in SAMPLE if k in s} for s in run["samples"]]
    return out


def summarize():
    os.makedirs(SUMMARY, exist_ok=True)
    for table, (commands, files) in TABLES.items():
        present = [f for f in files if os.path.exists(os.path.join(HERE, f))]
        if len(present) < len(files):
            missing = sorted(set(files) - set(present))
            print("%s: skipped, raw files missing: %s" % (table, ", ".join(missing)))
            continue
        runs = {}
        for f in files:
            path = os.path.join(HERE, f)
            with open(path) as fh:
                run = trim(json.load(fh))
            run["measured"] = measured(path)
            runs[f] = run
        with open(os.path.join(SUMMARY, table + ".json"), "w") as fh:
            json.dump({"table": table, "commands": commands, "runs": runs}, fh, indent=1)
            fh.write("\n")
        print("wrote summary/%s.json (%d runs)" % (table, len(runs)))


def plot_root(root):
    target = os.path.join(root, "loadtest", "results")
    os.makedirs(target, exist_ok=True)
    for name, (table, run) in PLOT_INPUTS.items():
        with open(os.path.join(SUMMARY, table + ".json")) as fh:
            data = json.load(fh)["runs"][run]
        with open(os.path.join(target, name), "w") as fh:
            json.dump(data, fh)
    print("plot inputs in %s; now: java -jar loadtest/target/loadtest.jar plot --root %s" % (target, root))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--plot-root":
        plot_root(sys.argv[2])
    elif len(sys.argv) == 1:
        summarize()
    else:
        sys.exit(__doc__)
