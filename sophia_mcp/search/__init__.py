"""Semantic search over Gong conversations: embeddings, chunking, the Qdrant reader and the indexer."""
