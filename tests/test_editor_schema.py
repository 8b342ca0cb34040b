"""The bundled schema in a real editor backend: yaml-language-server over LSP (stdio).

The npm package is installed once into ~/.cache/stackctl-test/npm (``npm install
--prefix``). Without node/npm the test skips, except in CI (``CI=true``), where
it fails: the editor promise is only kept if this runs.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import STACKCTL

pytestmark = pytest.mark.slow
NPM_CACHE = Path.home() / ".cache" / "stackctl-test" / "npm"
# HOME is not isolated by conftest; the cache is shared between runs on purpose.
SERVER_VERSION = "1.25.0"
TIMEOUT = 60.0


def _missing(tool: str) -> None:
    message = f"{tool} is not installed: the yaml-language-server test cannot run"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def server_js() -> Path:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        _missing("node/npm")
    js = NPM_CACHE / "node_modules" / "yaml-language-server" / "bin" / "yaml-language-server"
    package = js.parent.parent / "package.json"
    if not js.exists() or json.loads(package.read_text())["version"] != SERVER_VERSION:
        NPM_CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run([str(npm), "install", "--prefix", str(NPM_CACHE), "--no-audit",
                        "--no-fund", f"yaml-language-server@{SERVER_VERSION}"],
                       check=True, capture_output=True, timeout=600)
    return js


class Lsp:
    """A minimal LSP client: framed JSON-RPC over the server's stdin/stdout."""

    def __init__(self, js: Path, settings: dict[str, Any]) -> None:
        self.settings = settings
        self.proc = subprocess.Popen([str(shutil.which("node")), str(js), "--stdio"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL)
        self.messages: queue.Queue[dict[str, Any]] = queue.Queue()
        self.next_id = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        stream = self.proc.stdout
        assert stream is not None
        while True:
            length = 0
            while (line := stream.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            if not line:
                return
            self.messages.put(json.loads(stream.read(length)))

    def send(self, message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def request(self, method: str, params: dict[str, Any]) -> Any:
        self.next_id += 1
        ident = self.next_id
        self.send({"id": ident, "method": method, "params": params})
        message = self.wait(lambda m: m.get("id") == ident and "method" not in m)
        return message.get("result")

    def notify(self, method: str, params: dict[str, Any]) -> None:
        self.send({"method": method, "params": params})

    def wait(self, wanted: Any) -> dict[str, Any]:
        while True:
            message = self.messages.get(timeout=TIMEOUT)
            if "method" in message and "id" in message:  # a request from the server
                self._answer(message)
                continue
            if wanted(message):
                return message

    def _answer(self, message: dict[str, Any]) -> None:
        result: Any = None
        if message["method"] == "workspace/configuration":
            result = [self.settings.get(item.get("section", ""), self.settings)
                      for item in message["params"]["items"]]
        self.send({"id": message["id"], "result": result})

    def open(self, path: Path) -> list[dict[str, Any]]:
        uri = path.as_uri()
        self.notify("textDocument/didOpen", {"textDocument": {
            "uri": uri, "languageId": "yaml", "version": 1, "text": path.read_text()}})
        message = self.wait(lambda m: m.get("method") == "textDocument/publishDiagnostics"
                            and m["params"]["uri"] == uri)
        diagnostics: list[dict[str, Any]] = message["params"]["diagnostics"]
        return diagnostics

    def close(self) -> None:
        self.request("shutdown", {})
        self.notify("exit", {})
        self.proc.wait(timeout=10)
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                stream.close()


@pytest.fixture(scope="module")
def lsp(server_js: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Lsp, Path]]:
    root = tmp_path_factory.mktemp("editor")
    schemas = root / "schemas"
    subprocess.run([STACKCTL, "schema", "export", str(schemas)], cwd=root, check=True,
                   capture_output=True, timeout=120)
    bundle = schemas / "stackctl.schema.json"
    settings = {"yaml": {"schemas": {bundle.as_uri(): ["manifests/*.yaml"]}, "validate": True,
                         "completion": True, "hover": True, "schemaStore": {"enable": False}}}
    client = Lsp(server_js, settings)
    client.request("initialize", {
        "processId": os.getpid(), "rootUri": root.as_uri(),
        "capabilities": {"textDocument": {"publishDiagnostics": {},
                                          "completion": {"completionItem": {}}},
                         "workspace": {"configuration": True}}})
    client.notify("initialized", {})
    client.notify("workspace/didChangeConfiguration", {"settings": settings})
    (root / "manifests").mkdir()
    yield client, root / "manifests"
    client.close()


def _lines(diagnostics: list[dict[str, Any]]) -> list[int]:
    """1-based lines with a diagnostic, as in our own messages."""
    return sorted({d["range"]["start"]["line"] + 1 for d in diagnostics})


GOOD = """\
apiVersion: stackctl/v1
kind: Component
metadata: {name: art}
spec:
  type: artifact_store
  flavor: local
  config:
    path: /tmp/art
---
apiVersion: stackctl/v1
kind: Stack
metadata: {name: dev}
spec:
  components: {orchestrator: default, artifact_store: art, metadata_store: default}
"""


@pytest.mark.parametrize(("name", "text", "lines", "says"), [
    ("valid", GOOD, [], ""),
    ("top-level-typo", GOOD.replace("spec:\n  type", "specc:\n  type", 1), [1, 4],
     "specc"),
    ("config-typo", GOOD.replace("    path: /tmp/art", "    pathh: /tmp/art"), [7, 8], "pathh"),
    ("config-wrong-type", """\
apiVersion: stackctl/v1
kind: Component
metadata: {name: kfp}
spec:
  type: orchestrator
  flavor: kubeflow
  config:
    synchronous: "yes"
""", [8], "boolean"),
    ("second-document-typo", GOOD.replace("metadata: {name: dev}", "metdata: {name: dev}"),
     [10, 12], "metdata"),
])
def test_diagnostics_on_the_right_lines(lsp: tuple[Lsp, Path], name: str, text: str,
                                        lines: list[int], says: str) -> None:
    client, manifests = lsp
    path = manifests / f"{name}.yaml"
    path.write_text(text)
    diagnostics = client.open(path)
    assert _lines(diagnostics) == lines, diagnostics
    if says:
        assert any(says in d["message"] or says in json.dumps(d) for d in diagnostics)


def test_modeline_per_document(lsp: tuple[Lsp, Path]) -> None:
    client, manifests = lsp
    bundle = manifests.parent / "schemas" / "stackctl.schema.json"
    elsewhere = manifests.parent / "elsewhere"  # not covered by the yaml.schemas glob
    elsewhere.mkdir()
    path = elsewhere / "m.yaml"
    modeline = f"# yaml-language-server: $schema={bundle.as_uri()}\n"
    path.write_text(modeline + GOOD.replace("metadata: {name: art}", "metadat: {name: art}"))
    assert _lines(client.open(path)) == [2, 4]


def test_completion_offers_flavor_fields(lsp: tuple[Lsp, Path]) -> None:
    client, manifests = lsp
    path = manifests / "complete.yaml"
    path.write_text("apiVersion: stackctl/v1\nkind: Component\nmetadata: {name: a}\nspec:\n"
                    "  type: artifact_store\n  flavor: local\n  config:\n    \n")
    client.open(path)
    result = client.request("textDocument/completion", {
        "textDocument": {"uri": path.as_uri()}, "position": {"line": 7, "character": 4}})
    items = result["items"] if isinstance(result, dict) else result
    labels = {item["label"]: item for item in items}
    assert "path" in labels, sorted(labels)
    assert "pathh" not in labels



def test_modeline_applies_to_its_own_document_only(lsp: tuple[Lsp, Path]) -> None:
    client, manifests = lsp
    bundle = manifests.parent / "schemas" / "stackctl.schema.json"
    (manifests.parent / "multi").mkdir()
    modeline = f"# yaml-language-server: $schema={bundle.as_uri()}\n"
    broken = GOOD.replace("metadata: {name: dev}", "metdata: {name: dev}")
    once = manifests.parent / "multi" / "once.yaml"
    once.write_text(modeline + broken)
    assert _lines(client.open(once)) == []  # the second document has no schema
    each = manifests.parent / "multi" / "each.yaml"
    each.write_text(modeline + broken.replace("---\n", "---\n" + modeline))
    assert _lines(client.open(each)) == [12, 14]
