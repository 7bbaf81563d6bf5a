"""Install pip into this interpreter from the package index (for Pythons without ensurepip).

Finds the newest pip wheel through the index's JSON API (PEP 691) and runs pip from the wheel
itself to install it. Honours PIP_INDEX_URL.
"""

import json
import os
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

INDEX = os.environ.get("PIP_INDEX_URL", "https://pypi.org/simple").rstrip("/")


def main() -> None:
    request = urllib.request.Request(  # noqa: S310 (the package index's URL)
        f"{INDEX}/pip/", headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
        files = json.load(response)["files"]
    wheels = [f for f in files if f["filename"].endswith("-py3-none-any.whl")
              and not f.get("yanked")]
    wheel = wheels[-1]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / wheel["filename"]
        urllib.request.urlretrieve(wheel["url"], path)  # noqa: S310
        subprocess.check_call([sys.executable, str(path / "pip"), "install", "--quiet", str(path)])


if __name__ == "__main__":
    main()
