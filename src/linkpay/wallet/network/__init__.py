"""The offline test network: card charges and SPT payment intents."""
