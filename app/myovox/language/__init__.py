"""Language layer: a few selections -> whole sentences, as suggestions only (nothing is spoken unselected).

    api.py          Candidate and the Suggester protocol the speller and simulator code against
    suggester.py    LanguageSuggester: memory first, then the model within the deadline, then the n-gram
    memory.py       starter phrases + the patient's own phrases (local JSON), ranked by fit/frequency/recency
    ngram.py        word trigram fallback: next words, completions, abbreviation beam search
    initials.py     abbreviation expansion: word beam search the model scores in one batched pass per letter
    safety.py       drops empty, repeated, garbled, offensive candidates; never the patient's own words
    prompts.py      few-shot prompts sharing one cached prefix
    backend.py      which model: default GGUF, another GGUF path or a llama.cpp server URL; loads in background
    llama_backend.py  the only module importing llama_cpp: decode loop with deadline and token masks
    model_files.py  assembles and sha256-checks the packaged Gemma 3 270M into the user cache
    wordlist.py     English word frequencies (wordfreq) for the n-gram prior and the garble check
    evaluate.py     `myovox eval-language`
"""
