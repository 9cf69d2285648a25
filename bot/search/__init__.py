"""Ranking: exact rank-bm25 (BM25Okapi) scores served from precomputed sparse weights."""
