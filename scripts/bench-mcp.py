#!/usr/bin/env python3
"""Measures the MCP server: time from process start to the first tools/list answer (petstore,
and GitHub in catalogue mode), and the cost of a tool call beside a `connector-gen run` call and
beside the bare HTTP request, all against a loopback mock API started here.

    cargo build --release -p connector-gen-cli
    python3 scripts/bench-mcp.py [--bin target/release/connector-gen] [--calls 500]

Prints Markdown tables; nothing leaves the machine.
"""

import argparse
import http.client
import http.server
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GITHUB = os.path.join(ROOT, ".cache/corpus/node_modules/@octokit/openapi/generated/api.github.com.json")
PET = json.dumps({"id": 7, "name": "Rex", "status": "available"}).encode()


class Api(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: with Nagle's algorithm the second waits for the
    # client's delayed ACK, 40 ms a request.
    disable_nagle_algorithm = True

    def do_GET(self):  # noqa: N802 (the standard library's name)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(PET)))
        self.end_headers()
        self.wfile.write(PET)

    def log_message(self, *args):
        pass


def start_api():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Api)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class Mcp:
    """A server process spoken to over stdio, one JSON-RPC line at a time."""

    def __init__(self, args):
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            args, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, text=True, bufsize=1)
        self.next_id = 0

    def request(self, method, params=None):
        self.next_id += 1
        message = {"jsonrpc": "2.0", "id": self.next_id, "method": method}
        if params is not None:
            message["params"] = params
        self.process.stdin.write(json.dumps(message) + "\n")
        self.process.stdin.flush()
        while True:
            line = self.process.stdout.readline()
            if not line:
                raise RuntimeError(f"the server ended during {method}")
            answer = json.loads(line)
            if answer.get("id") == self.next_id:
                return answer

    def notify(self, method):
        self.process.stdin.write(json.dumps({"jsonrpc": "2.0", "method": method}) + "\n")
        self.process.stdin.flush()

    def open(self):
        self.request("initialize", {"protocolVersion": "2025-06-18", "capabilities": {},
                                    "clientInfo": {"name": "bench", "version": "1"}})
        self.notify("notifications/initialized")
        tools = self.request("tools/list")
        return time.perf_counter() - self.started, len(tools["result"]["tools"])

    def close(self):
        self.process.stdin.close()
        self.process.wait(timeout=30)


def summary(samples):
    samples = sorted(samples)
    return statistics.median(samples), samples[0], samples[-1]


def ms(seconds):
    return f"{seconds * 1000:.2f}"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", default=os.path.join(ROOT, "target/release/connector-gen"))
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--starts", type=int, default=5)
    args = parser.parse_args()
    api = start_api()
    base = f"http://127.0.0.1:{api.server_address[1]}"
    connection = os.path.join(tempfile.mkdtemp(), "petstore.json")
    with open(connection, "w") as file:
        json.dump({"connector": "petstore", "allow_http_loopback": True,
                   "credentials": {"api_key": {"key": "bench-key"}}}, file)
    petstore = [args.bin, "mcp", "specs/petstore.yaml", "--base-url", base, "--connection", connection]

    print("| spec | tools | process start to first tools/list answer: median (min–max) |")
    print("| --- | ---: | ---: |")
    for name, command, runs in [("petstore", petstore, args.starts),
                                ("GitHub (catalogue mode)", [args.bin, "mcp", GITHUB, "--base-url", base], args.starts)]:
        if not os.path.exists(command[2]) and command[2] != "specs/petstore.yaml":
            print(f"| {name} | n/a: {GITHUB} is missing (scripts/fetch-corpus.sh) | |")
            continue
        times = []
        for _ in range(runs):
            server = Mcp(command)
            elapsed, count = server.open()
            server.close()
            times.append(elapsed)
        median, low, high = summary(times)
        print(f"| {name} | {count} | {ms(median)} ms ({ms(low)}–{ms(high)}) |")

    # A tool call on a running server, a `run` process per call, the bare request.
    server = Mcp(petstore)
    server.open()
    for _ in range(20):
        server.request("tools/call", {"name": "getPet", "arguments": {"petId": 7}})
    mcp = []
    for _ in range(args.calls):
        start = time.perf_counter()
        answer = server.request("tools/call", {"name": "getPet", "arguments": {"petId": 7}})
        mcp.append(time.perf_counter() - start)
        assert answer["result"].get("isError") is not True, answer
    server.close()
    runs = []
    for _ in range(max(10, args.calls // 25)):
        start = time.perf_counter()
        subprocess.run([args.bin, "run", "specs/petstore.yaml", "getPet", "--input", '{"petId": 7}',
                        "--base-url", base, "--connection", connection],
                       cwd=ROOT, check=True, capture_output=True)
        runs.append(time.perf_counter() - start)
    bare = []
    client = http.client.HTTPConnection("127.0.0.1", api.server_address[1])
    for _ in range(args.calls):
        start = time.perf_counter()
        client.request("GET", "/pets/7")
        client.getresponse().read()
        bare.append(time.perf_counter() - start)
    print()
    print("| one getPet call | median | min | max |")
    print("| --- | ---: | ---: | ---: |")
    for name, samples in [("MCP tools/call on a running server (stdio, JSON-RPC round trip)", mcp),
                          ("`connector-gen run` (a process per call: start, spec, request)", runs),
                          ("the bare HTTP request to the mock (keep-alive, from this script)", bare)]:
        median, low, high = summary(samples)
        print(f"| {name} | {ms(median)} ms | {ms(low)} ms | {ms(high)} ms |")
    api.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
