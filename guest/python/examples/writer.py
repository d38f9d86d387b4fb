"""The article's process 1 in Python: each line typed is stored as the whole
content of FILE (argv[1]): seek(0), write, truncate, flush."""

import sys

from wit_world import exports


class Run(exports.Run):
    def run(self) -> None:
        path = sys.argv[1]
        with open(path, "r+b") as f:
            print("ready", flush=True)
            for line in sys.stdin:
                f.seek(0)
                f.write(line.rstrip("\n").encode())
                f.truncate()
                f.flush()
