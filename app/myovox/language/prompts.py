"""Prompts and grammars for the three tasks. Pure: strings in, strings out.

The default model is a *base* (not instruction-tuned) Gemma 3 270M, so prompts are few-shot
completions that end where the answer starts, and a newline ends the answer. Abbreviation expansion
is constrained (token masks in-process, a GBNF grammar on a server) so every word the model writes
starts with the letter the patient chose. The fixed part of each prompt comes first and the
conversation last, so llama.cpp's prefix cache serves the fixed part on every call.
"""
from __future__ import annotations

from typing import Sequence

from .text import words

# One few-shot preamble shared by all three tasks, written for this project (not from any evaluation
# set). Every prompt starts with exactly these tokens, so after the first call (or the warm-up at load)
# llama.cpp's prefix cache holds it and a call only pays for its own last line.
SHARED_PREFIX = (
    "Sentences a person who cannot speak wants to say, written out from a few keywords or from the first"
    " letter of each word.\n\n"
    "Keywords: water, cold\nSentence: I would like some cold water.\n"
    "Letters: c y c t d\nSentence: Can you call the doctor?\n"
    "Keywords: back, pain\nSentence: My back hurts.\n"
    "Letters: i w s w\nSentence: I want some water.\n"
    "Keywords: daughter, call\nSentence: Please call my daughter.\n"
    "Keywords: arm, itch, scratch\nSentence: My arm itches, can you scratch it?\n"
    "Letters: w d y p m g\nSentence: Where did you put my glasses?\n"
    "I said: I am cold.\nThey said: Do you want another blanket?\nLetters: y p\nSentence: Yes please.\n"
    "Message: I am tired and want to sleep.\n"
)


# The sentences of the few-shot preamble: a model answer that repeats one of them is an echo, not an answer.
EXAMPLE_SENTENCES = tuple(line.split(": ", 1)[1] for line in SHARED_PREFIX.splitlines()
                          if line.startswith(("Sentence: ", "Message: ")))


def echoes_examples(text: str) -> bool:
    """Does `text` repeat a sentence of the preamble ("I am tired and want to sleep, pain leg")?"""
    said = " ".join(words(text))
    return any(" ".join(words(e)) in said for e in EXAMPLE_SENTENCES if len(words(e)) >= 3)


def _context_block(context: Sequence[str], partner: str = "") -> str:
    """The conversation so far: the patient's last turns ("I said"), then what the partner just said."""
    lines = [c.strip() for c in context if c and c.strip()][-3:]
    said = "".join(f"I said: {c}\n" for c in lines)
    return said + (f"They said: {partner.strip()}\n" if partner and partner.strip() else "")


def labels_prompt(labels: Sequence[str], context: Sequence[str] = (), partner: str = "") -> str:
    return SHARED_PREFIX + _context_block(context, partner) + f"Keywords: {', '.join(labels)}\nSentence:"


def spaced_letters(letters: str) -> str:
    return " ".join(ch for ch in letters.lower() if ch.isalnum())


def abbreviation_prompt(letters: str, context: Sequence[str] = (), show_letters: bool = True, partner: str = "") -> str:
    """With `show_letters=False` the prompt is the same for every abbreviation (the model's cache answers it
    at once); the constrained search, not the prompt, then carries the letters."""
    head = f"Letters: {spaced_letters(letters)}\n" if show_letters else ""
    return SHARED_PREFIX + _context_block(context, partner) + head + "Sentence:"


def _either_case(ch: str) -> str:
    return f"[{ch.lower()}{ch.upper()}]" if ch.isalpha() else f'"{ch}"'


def abbreviation_grammar(letters: str) -> str:
    """GBNF (for a llama.cpp server): one word per letter, each starting with that letter, then end punctuation."""
    letters = [ch for ch in letters.lower() if ch.isalnum()]
    parts = [f"{_either_case(ch)} [a-zA-Z']*" for ch in letters]
    body = ' " " '.join(f"( {p} )" for p in parts)
    return f'root ::= " " {body} [.?!]\n'


def word_prompt(before: str, context: Sequence[str] = (), partner: str = "") -> str:
    return SHARED_PREFIX + _context_block(context, partner) + "Message:" + ((" " + before.strip()) if before.strip() else "")
