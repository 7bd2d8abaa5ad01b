"""The semantic floor with the default model: how many papers of an embedding cache clear it.

    PAPERWIRE_DATA_DIR=benchmarks/out/data .venv/bin/python benchmarks/bench_floor.py

Reads every vector of DATA_DIR/embedding-cache (e.g. the rec-dev sample that
bench_rec.py embedded) and applies SearchService._floor's rule to a few queries.
"""

import sqlite3

import numpy as np

from paperwire.config import load_settings
from paperwire.domain.fusion import CHANCE_PROBES, background, chance_ceiling, semantic_floor
from paperwire.search.embedder import build_embedder

QUERIES = ["asdkjhqwe zzqxv", "the", "qwerty uiop", "zzz", "lorem ipsum dolor",
           "gaussian splatting", "large language model reasoning",
           "reinforcement learning from human feedback", "protein structure prediction",
           "speech recognition"]


def main() -> None:
    settings = load_settings()
    db = sqlite3.connect(settings.data_dir / "embedding-cache" / "embeddings.sqlite")
    m = np.stack([np.frombuffer(b, dtype="<f4")
                  for (b,) in db.execute("select vector from vectors order by hash")])
    emb = build_embedder(settings)
    rows = np.arange(0, len(m), max(1, len(m) // 512))[:512]
    probes = np.asarray(emb.embed(list(CHANCE_PROBES)), dtype=np.float32)
    tops = (m @ probes.T).max(axis=0)
    ceiling = chance_ceiling(tops.tolist(), [background((m[rows] @ p).tolist())[1]
                                             for p in probes])
    print(f"{len(m)} papers; probe tops {np.round(tops, 3).tolist()}; ceiling {ceiling:.3f}")
    for q in QUERIES:
        s = m @ np.asarray(emb.embed([q])[0], dtype=np.float32)
        centre, spread = background(s[rows].tolist())
        floor = semantic_floor(centre, spread, len(m))
        admitted = int(((s >= floor) | (s > ceiling)).sum())
        print(f"{q!r:46} floor={floor:.3f} max={s.max():.3f} admitted={admitted}")


if __name__ == "__main__":
    main()
