"""examples/notebook.ipynb runs top to bottom in a real kernel (nbclient + ipykernel)."""

from __future__ import annotations

from pathlib import Path

# Hard dependencies of `make test` (mk/python.mk installs them): a missing one
# fails the suite instead of skipping the notebook silently.
import nbclient
import nbformat

NOTEBOOK = Path(__file__).resolve().parents[2] / "examples" / "notebook.ipynb"


def test_notebook_executes(tmp_path: Path) -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    outputs = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for out in cell.get("outputs", []):
            assert out.get("output_type") != "error", out
            outputs.append(out.get("text", "") + str(out.get("data", {})))
    text = "\n".join(outputs)
    # The analyst's job (issue 12): the export as a DataFrame, an aggregate, a chart, an incremental run.
    assert "conversations in" in text and "customer_name" in text and "<table" in text
    assert "datetime64" in text and "UTC" in text
    assert "image/png" in text, "the matplotlib chart is drawn"
    assert "incremental run: 3 changed conversations in" in text, "the two bumped and the newest one (since is inclusive)"
