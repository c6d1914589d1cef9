"""The eval harness's picture: accuracy against the fraction of requests escalated."""

from __future__ import annotations

from pathlib import Path


def accuracy_vs_escalation(rows: list[dict], path: Path, title: str = "Hearth: accuracy against escalation") -> Path:
    import matplotlib

    matplotlib.use("Agg")  # files only: no display, and never Qt inside app.core
    from matplotlib import pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.4), dpi=120)
    auto = sorted((r for r in rows if r["policy"] == "auto"), key=lambda r: r["escalation_rate"])
    if auto:
        ax.plot([r["escalation_rate"] for r in auto], [r["accuracy"] for r in auto], "o-", color="#c05621", label="auto (threshold)")
        for r in auto:
            ax.annotate(f"{r['threshold']:g}", (r["escalation_rate"], r["accuracy"]), textcoords="offset points", xytext=(4, -12), fontsize=8)
    for policy, marker, color in (("local", "s", "#2b6cb0"), ("cloud", "D", "#2f855a")):
        for r in (r for r in rows if r["policy"] == policy):
            ax.plot([r["escalation_rate"]], [r["accuracy"]], marker, color=color, markersize=8, label=f"{policy} only")
    ax.set_xlabel("fraction of requests escalated to the cloud")
    ax.set_ylabel("accuracy (all tasks)")
    ax.set_xlim(-0.05, 1.05)
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    ax.set_title(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
