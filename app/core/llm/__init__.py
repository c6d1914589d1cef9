"""Language models: the local worker (llama.cpp) and, later, the cloud fallback."""
