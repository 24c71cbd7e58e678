"""Make the published asv report work without internet access.

``asv publish`` writes an index.html that loads jQuery, flot, bootstrap and a
few small plugins from public CDNs; a browser without internet access then
shows only an error page.  This script fetches the same libraries from the
npm registry (``npm pack``), puts them in ``<html dir>/vendor/`` and points
index.html at them.  Run it after ``asv publish``::

    python offline_report.py            # default html dir: .asv/html
"""

import pathlib
import re
import subprocess
import sys
import tarfile
import tempfile

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


def main(html_dir=".asv/html"):
    html = pathlib.Path(html_dir)
    index = html / "index.html"
    page = index.read_text()
    vendor = html / "vendor"
    vendor.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        for url, (package, path) in LIBRARIES.items():
            if url not in page:
                continue
            local = vendor / f"{package.split('@')[0]}-{pathlib.Path(path).name}"
            local.write_bytes((_unpack(package, pathlib.Path(scratch)) / path).read_bytes())
            # The tag's integrity hash is that of the CDN's file (often a
            # minified build), so it goes with the address.
            tag = re.compile(rf'(["\']){re.escape(url)}\1(\s+integrity="[^"]*")?')
            page = tag.sub(f'"vendor/{local.name}"', page)
    index.write_text(page)
    print(f"{index}: scripts and styles now load from {vendor}")


if __name__ == "__main__":
    main(*sys.argv[1:])
