"""Prompts and grammars for the three tasks. Pure: strings in, strings out.

The default model is a *base* (not instruction-tuned) Gemma 3 270M, so prompts are few-shot
completions that end where the answer starts, and a newline ends the answer. Abbreviation expansion
and word completion are constrained by a GBNF grammar (llama.cpp), so every word the model writes
starts with the letter the patient chose: the model cannot ignore the patient's input.
"""
from __future__ import annotations

from typing import Sequence

from .text import words

# Few-shot examples written for this project (not from any evaluation set).
LABEL_EXAMPLES = (
    ("water, cold", "I would like some cold water."),
    ("back, pain", "My back hurts."),
    ("daughter, call", "Please call my daughter."),
    ("tired, sleep", "I am tired and want to sleep."),
    ("blanket", "Can I have another blanket?"),
)
ABBREVIATION_EXAMPLES = (
    "I want some water.",
    "Can you call the doctor?",
    "Please turn on the light.",
    "I am feeling much better today.",
    "Where did you put my glasses?",
)


def _context_block(context: Sequence[str]) -> str:
    lines = [c.strip() for c in context if c and c.strip()][-4:]
    return ("Conversation so far:\n" + "\n".join(f"- {c}" for c in lines) + "\n\n") if lines else ""


def labels_prompt(labels: Sequence[str], context: Sequence[str] = ()) -> str:
    head = ("A person who cannot speak picks a few keywords. Each sentence is what that person wants to say,"
            " short and in the first person.\n\n")
    shots = "".join(f"Keywords: {k}\nSentence: {s}\n\n" for k, s in LABEL_EXAMPLES)
    return head + _context_block(context) + shots + f"Keywords: {', '.join(labels)}\nSentence:"


def spaced_letters(letters: str) -> str:
    return " ".join(ch for ch in letters.lower() if ch.isalnum())


def abbreviation_prompt(letters: str, context: Sequence[str] = ()) -> str:
    head = ("A person who cannot speak types only the first letter of each word. Each sentence is the"
            " everyday sentence those letters stand for.\n\n")
    shots = "".join(
        f"Letters: {spaced_letters(''.join(w[0] for w in words(s)))}\nSentence: {s}\n\n" for s in ABBREVIATION_EXAMPLES
    )
    return head + _context_block(context) + shots + f"Letters: {spaced_letters(letters)}\nSentence:"


def _either_case(ch: str) -> str:
    return f"[{ch.lower()}{ch.upper()}]" if ch.isalpha() else f'"{ch}"'


def abbreviation_grammar(letters: str) -> str:
    """GBNF: exactly one word per letter, each starting with that letter, then end punctuation and newline."""
    letters = [ch for ch in letters.lower() if ch.isalnum()]
    parts = [f"{_either_case(ch)} [a-zA-Z']*" for ch in letters]
    body = ' " " '.join(f"( {p} )" for p in parts)
    return f'root ::= " " {body} [.?!] "\\n"\n'


def word_prompt(before: str, context: Sequence[str] = ()) -> str:
    head = "A person who cannot speak is typing a message, one letter at a time.\n\n"
    return head + _context_block(context) + "Message:" + ((" " + before.strip()) if before.strip() else "")


def word_grammar(partial: str) -> str:
    """GBNF: one word that starts with the typed letters, closed by a space or punctuation."""
    prefix = " ".join(_either_case(ch) for ch in partial if ch.isalnum() or ch == "'")
    return f'root ::= " " {prefix} [a-zA-Z\']{{{0 if partial else 1},18}} [ .,?!\\n]\n'
