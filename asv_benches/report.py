"""Publish the asv report, make it work offline, and serve it: one command.

Run from this directory, after ``asv run``::

    python report.py              # publish, vendor, serve at http://127.0.0.1:8080 (Ctrl-C stops)
    python report.py --no-serve   # publish and vendor only
    python report.py --port 8000

``asv publish`` writes the static site to ``.asv/html``, with an index.html
that loads jQuery, flot, bootstrap and a few small plugins from public CDNs,
which a browser without internet access cannot reach.  This script fetches
the same libraries from the npm registry once (``npm pack``; Node.js's npm
is needed the first time), keeps them in ``.asv/vendor``, copies them into
every publication and points index.html at them.  It serves the site with
Python's own HTTP server, which looks every file up by its path: publishing
again (``python report.py --no-serve`` in another terminal) under a running
server is safe, and a reload shows the new report, where ``asv preview``
breaks once its directory is replaced.
"""

import argparse
import functools
import http.server
import pathlib
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile

HERE = pathlib.Path(__file__).resolve().parent

# CDN address in asv's index.html -> (npm package, file inside the package)
LIBRARIES = {
    "https://code.jquery.com/jquery-3.3.1.min.js": ("jquery@3.3.1", "dist/jquery.min.js"),
    "https://cdnjs.cloudflare.com/ajax/libs/flot/0.8.3/jquery.flot.min.js": ("flot@0.8.3", "jquery.flot.js"),
    "https://cdnjs.cloudflare.com/ajax/libs/flot/0.8.3/jquery.flot.time.min.js": ("flot@0.8.3", "jquery.flot.time.js"),
    "https://cdnjs.cloudflare.com/ajax/libs/flot/0.8.3/jquery.flot.selection.min.js": (
        "flot@0.8.3",
        "jquery.flot.selection.js",
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/flot/0.8.3/jquery.flot.categories.min.js": (
        "flot@0.8.3",
        "jquery.flot.categories.js",
    ),
    "https://cdn.jsdelivr.net/npm/flot-orderbars@1.0.0/js/jquery.flot.orderBars.js": (
        "flot-orderbars@1.0.0",
        "js/jquery.flot.orderBars.js",
    ),
    # 1.0.1 is not on npm; 1.1.3 has the same API.
    "https://cdnjs.cloudflare.com/ajax/libs/stupidtable/1.0.1/stupidtable.min.js": (
        "stupid-table-plugin@1.1.3",
        "stupidtable.min.js",
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/blueimp-md5/2.19.0/js/md5.min.js": ("blueimp-md5@2.19.0", "js/md5.min.js"),
    "https://cdn.jsdelivr.net/npm/bootstrap@3.1.1/dist/js/bootstrap.min.js": (
        "bootstrap@3.1.1",
        "dist/js/bootstrap.min.js",
    ),
    "https://cdn.jsdelivr.net/npm/bootstrap@3.1.1/dist/css/bootstrap.min.css": (
        "bootstrap@3.1.1",
        "dist/css/bootstrap.min.css",
    ),
}


def _unpack(package, into):
    """Download ``package`` with ``npm pack`` and return the directory it unpacks to."""
    target = into / package.replace("/", "_")
    if not target.exists():
        name = subprocess.run(
            ["npm", "pack", "--silent", package], cwd=into, check=True, capture_output=True, text=True
        ).stdout.split()[-1]
        with tarfile.open(into / name) as archive:
            archive.extractall(target, filter="data")
    return target / "package"


def vendor(html, cache):
    """Point ``html``'s index.html at copies of its CDN libraries, fetched into ``cache`` once."""
    index = html / "index.html"
    page = index.read_text()
    (html / "vendor").mkdir(exist_ok=True)
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        for url, (package, path) in LIBRARIES.items():
            if url not in page:
                continue
            name = f"{package.replace('@', '-')}-{pathlib.Path(path).name}"  # a new version, a new file
            if not (cache / name).exists():
                (cache / name).write_bytes((_unpack(package, pathlib.Path(scratch)) / path).read_bytes())
            shutil.copyfile(cache / name, html / "vendor" / name)
            # The tag's integrity hash is that of the CDN's file (often a
            # minified build), so it goes with the address.
            tag = re.compile(rf'(["\']){re.escape(url)}\1(\s+integrity="[^"]*")?')
            page = tag.sub(f'"vendor/{name}"', page)
    index.write_text(page)


def serve(html, port):
    """Serve ``html`` at http://127.0.0.1:``port`` until interrupted, by path (see the module docstring)."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(html))
    with http.server.ThreadingHTTPServer(("127.0.0.1", port), handler) as server:
        print(f"serving the report at http://127.0.0.1:{port}/ (Ctrl-C stops)", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-serve", action="store_true", help="publish and vendor only")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args(argv)
    subprocess.run([sys.executable, "-m", "asv", "publish"], cwd=HERE, check=True)
    html = HERE / ".asv" / "html"
    vendor(html, HERE / ".asv" / "vendor")
    print(f"{html / 'index.html'}: works offline")
    if not args.no_serve:
        serve(html, args.port)


if __name__ == "__main__":
    main()
